package derive

import (
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/rollup"
)

// FrameProvider is the stage before the channel bank (the frame queue).
type FrameProvider interface {
	Origin() L1BlockRef
	NextFrame() (Frame, error)
}

// ChannelBank assembles frames into channels and hands out the data of ready channels (specs:
// derivation.md "Channel Bank"). Before Holocene it buffers any number of channels in FIFO order, times
// them out, prunes them by total size, and reads the first ready one (from Canyon, scanning the queue);
// from Holocene (op-node's channel assembler) it holds a single staging channel whose frames must arrive in
// order.
//
// The rules in force are those of the stage's mode, not of the L1 origin's time: Reset picks the mode of the
// L1 block it resets to, and TransformHolocene switches to Holocene's, as op-node swaps its channel stages
// (see HoloceneTransform).
type ChannelBank struct {
	cfg  *rollup.Config
	log  log.Logger
	prev FrameProvider

	holocene bool                   // the Holocene rules are in force
	channels map[ChannelID]*Channel // pre-Holocene: open channels
	queue    []ChannelID            // pre-Holocene: channels in the order they were opened
	staging  *Channel               // Holocene: the single channel being assembled
}

// NewChannelBank reads frames from prev.
func NewChannelBank(cfg *rollup.Config, logger log.Logger, prev FrameProvider) *ChannelBank {
	return &ChannelBank{cfg: cfg, log: logger, prev: prev, channels: map[ChannelID]*Channel{}}
}

// Origin is the L1 block being read.
func (b *ChannelBank) Origin() L1BlockRef { return b.prev.Origin() }

// Reset drops every channel and takes the rules of base's fork.
func (b *ChannelBank) Reset(base L1BlockRef) {
	b.holocene = b.cfg.IsHolocene(base.Time)
	b.channels = map[ChannelID]*Channel{}
	b.queue = nil
	b.staging = nil
}

// TransformHolocene switches to the Holocene rules, dropping the channels buffered before
// (holocene/derivation.md "Activation").
func (b *ChannelBank) TransformHolocene() {
	if b.holocene {
		return
	}
	b.log.Info("Channel bank: switching to the Holocene rules", "origin", b.Origin(), "dropped", len(b.queue))
	b.holocene = true
	b.channels, b.queue, b.staging = map[ChannelID]*Channel{}, nil, nil
}

// FlushChannel drops the channel being assembled (Holocene: a batch of the previous channel was invalid,
// and nothing may follow it from that channel).
func (b *ChannelBank) FlushChannel() { b.staging = nil }

func (b *ChannelBank) timedOut(ch *Channel) bool {
	origin := b.Origin()
	return ch.OpenBlock().Number+b.cfg.ChannelTimeout(origin.Time) < origin.Number
}

// NextChannel returns the data of the next ready channel: io.EOF when the current L1 block has no more
// frames, ErrNotEnoughData after progress that produced no channel yet.
func (b *ChannelBank) NextChannel() ([]byte, error) {
	if b.holocene {
		return b.nextHoloceneChannel()
	}
	if data, ok := b.readPreHolocene(); ok {
		return data, nil
	}
	f, err := b.prev.NextFrame()
	if err != nil {
		return nil, err
	}
	b.ingest(f)
	return nil, ErrNotEnoughData
}

// readPreHolocene reads a ready channel: the first one only before Canyon, the first ready one in the queue
// from Canyon (by the L1 origin's time). Timed-out channels at the front are dropped first.
func (b *ChannelBank) readPreHolocene() ([]byte, bool) {
	for len(b.queue) > 0 && b.timedOut(b.channels[b.queue[0]]) {
		b.log.Info("Channel timed out", "channel", b.queue[0], "origin", b.Origin())
		b.dropFirst()
	}
	n := len(b.queue)
	if n > 1 && !b.cfg.IsCanyon(b.Origin().Time) {
		n = 1
	}
	for i := 0; i < n; i++ {
		ch := b.channels[b.queue[i]]
		if b.timedOut(ch) || !ch.IsReady() {
			continue
		}
		data, err := ch.Data()
		delete(b.channels, b.queue[i])
		b.queue = append(b.queue[:i], b.queue[i+1:]...)
		if err != nil {
			b.log.Warn("Dropping unreadable channel", "channel", ch.ID(), "err", err)
			return nil, false
		}
		return data, true
	}
	return nil, false
}

func (b *ChannelBank) dropFirst() {
	delete(b.channels, b.queue[0])
	b.queue = b.queue[1:]
}

// ingest adds a frame to its channel, opening the channel on the current L1 block if it is new, then
// prunes the oldest channels while the bank is over its size limit.
func (b *ChannelBank) ingest(f Frame) {
	ch, ok := b.channels[f.ID]
	if !ok {
		ch = NewChannel(f.ID, b.Origin().ID(), false)
		b.channels[f.ID] = ch
		b.queue = append(b.queue, f.ID)
	}
	if b.timedOut(ch) {
		b.log.Warn("Dropping frame of a timed-out channel", "channel", f.ID, "frame", f.FrameNumber)
		return
	}
	if err := ch.AddFrame(f); err != nil {
		b.log.Warn("Dropping frame", "channel", f.ID, "frame", f.FrameNumber, "err", err)
		return
	}
	var total uint64
	for _, id := range b.queue {
		total += b.channels[id].Size()
	}
	for total > b.cfg.MaxChannelBankSize(b.Origin().Time) {
		first := b.channels[b.queue[0]]
		b.log.Info("Pruning channel", "channel", first.ID(), "size", first.Size(), "total", total)
		total -= first.Size()
		b.dropFirst()
	}
}

// nextHoloceneChannel ingests frames until the staging channel is complete (specs: holocene/derivation.md
// "Channel Bank"). A first frame always starts a new staging channel; other frames must continue it.
func (b *ChannelBank) nextHoloceneChannel() ([]byte, error) {
	if b.staging != nil && b.timedOut(b.staging) {
		b.log.Info("Channel timed out", "channel", b.staging.ID(), "origin", b.Origin())
		b.staging = nil
	}
	for {
		f, err := b.prev.NextFrame()
		if err != nil {
			return nil, err // io.EOF or ErrNotEnoughData: the channel waits for more frames
		}
		if f.FrameNumber == 0 {
			b.staging = NewChannel(f.ID, b.Origin().ID(), true)
		}
		if b.staging == nil {
			b.log.Warn("Dropping non-first frame without a channel", "channel", f.ID, "frame", f.FrameNumber)
			continue
		}
		if err := b.staging.AddFrame(f); err != nil {
			b.log.Warn("Dropping frame", "channel", f.ID, "frame", f.FrameNumber, "err", err)
			continue
		}
		if b.staging.Size() > b.cfg.MaxRLPBytesPerChannel(b.Origin().Time) {
			b.log.Warn("Dropping oversized channel", "channel", b.staging.ID(), "size", b.staging.Size())
			b.staging = nil
			continue
		}
		if !f.IsLast {
			continue
		}
		ch := b.staging
		b.staging = nil
		data, err := ch.Data()
		if err != nil {
			b.log.Warn("Dropping unreadable channel", "channel", ch.ID(), "err", err)
			return nil, ErrNotEnoughData
		}
		return data, nil
	}
}
