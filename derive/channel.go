package derive

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/faultproof/faultproof/rollup"
)

// Reasons a frame is not added to a channel. The channel bank drops such frames and carries on.
var (
	ErrWrongChannel     = errors.New("frame belongs to another channel")
	ErrDuplicateFrame   = errors.New("duplicate frame number")
	ErrDuplicateClose   = errors.New("channel already has a closing frame")
	ErrFrameAfterLast   = errors.New("frame number is past the closing frame")
	ErrFrameOutOfOrder  = errors.New("frame is not the next frame of the channel")
	ErrChannelNotReady  = errors.New("channel is not ready")
	errChannelDataLarge = errors.New("channel data does not fit in memory")
)

// Channel collects the frames of one channel until it can be read (specs/protocol/derivation.md, "Channel
// Bank", "Loading frames"; holocene/derivation.md, "Channel Bank").
//
// Before Holocene frames may arrive in any order:
//   - a frame whose number the channel already holds is dropped;
//   - a second closing frame (is_last) is dropped;
//   - a closing frame removes the frames numbered above it, and once closed, frames numbered at or above
//     the closing frame are dropped.
//
// From Holocene a channel takes its frames strictly in order: frame n must be the channel's (n+1)th frame,
// and nothing is added after the closing frame.
//
// A Channel does not time out or prune itself; the channel bank does that, using OpenBlock and Size.
type Channel struct {
	id        ChannelID
	openBlock rollup.BlockID
	inOrder   bool

	frames map[uint16]Frame
	// size is the channel size the channel bank prunes on (see Size).
	size uint64

	closed  bool
	lastNum uint16 // the closing frame's number, once closed
}

// NewChannel opens a channel on its first frame's L1 block. holocene selects the Holocene in-order rules.
func NewChannel(id ChannelID, openBlock rollup.BlockID, holocene bool) *Channel {
	return &Channel{id: id, openBlock: openBlock, inOrder: holocene, frames: make(map[uint16]Frame)}
}

// ID is the channel's id.
func (ch *Channel) ID() ChannelID { return ch.id }

// OpenBlock is the L1 block the channel was opened in (channel.open_l1_block in the spec).
func (ch *Channel) OpenBlock() rollup.BlockID { return ch.openBlock }

// Size is the size the channel bank prunes on, and from Holocene compares with MAX_RLP_BYTES_PER_CHANNEL:
// the sum over the frames added of their data length plus FrameOverhead.
//
// op-node: when a closing frame removes frames numbered above it (before Holocene), the size of every
// buffered frame is subtracted, not only of the removed ones, so the size restarts from the closing frame
// and forgets the frames kept below it. The specs size a channel by all its buffered frames. We follow
// op-node: its channel bank keeps channels that the specs' size would prune.
func (ch *Channel) Size() uint64 { return ch.size }

// FrameCount is the number of buffered frames.
func (ch *Channel) FrameCount() int { return len(ch.frames) }

// IsClosed reports whether the closing frame has been added.
func (ch *Channel) IsClosed() bool { return ch.closed }

// AddFrame buffers f, or returns why the rules drop it (the channel is then unchanged).
func (ch *Channel) AddFrame(f Frame) error {
	if f.ID != ch.id {
		return fmt.Errorf("%w: frame of %s added to %s", ErrWrongChannel, f.ID, ch.id)
	}
	if f.IsLast && ch.closed {
		return fmt.Errorf("%w: frame %d closes again, closed at %d", ErrDuplicateClose, f.FrameNumber, ch.lastNum)
	}
	if _, ok := ch.frames[f.FrameNumber]; ok {
		return fmt.Errorf("%w: %d", ErrDuplicateFrame, f.FrameNumber)
	}
	if ch.closed && f.FrameNumber >= ch.lastNum {
		return fmt.Errorf("%w: frame %d, closed at %d", ErrFrameAfterLast, f.FrameNumber, ch.lastNum)
	}
	if ch.inOrder && int(f.FrameNumber) != len(ch.frames) {
		return fmt.Errorf("%w: got %d, want %d", ErrFrameOutOfOrder, f.FrameNumber, len(ch.frames))
	}

	if f.IsLast {
		ch.closed = true
		ch.lastNum = f.FrameNumber
		// Drop the frames numbered above the closing one. Never happens with in-order frames.
		pruned := false
		for n := range ch.frames {
			if n > f.FrameNumber {
				delete(ch.frames, n)
				pruned = true
			}
		}
		if pruned {
			ch.size = 0 // op-node: every buffered frame's size is subtracted (see Size)
		}
	}
	ch.frames[f.FrameNumber] = f
	ch.size += channelFrameSize(f)
	return nil
}

func channelFrameSize(f Frame) uint64 { return uint64(len(f.Data)) + FrameOverhead }

// IsReady reports whether the channel is closed and holds every frame from 0 to the closing frame.
func (ch *Channel) IsReady() bool {
	// After a close no frame above the closing one is kept, so a full count means no gap.
	return ch.closed && len(ch.frames) == int(ch.lastNum)+1
}

// Data is the channel's data: the frames' data in frame number order. The channel must be ready.
func (ch *Channel) Data() ([]byte, error) {
	if !ch.IsReady() {
		return nil, ErrChannelNotReady
	}
	total := uint64(0)
	for n := 0; n <= int(ch.lastNum); n++ {
		total += uint64(len(ch.frames[uint16(n)].Data))
	}
	if total > uint64(int(^uint(0)>>1)) {
		return nil, errChannelDataLarge
	}
	out := make([]byte, 0, int(total))
	for n := 0; n <= int(ch.lastNum); n++ {
		out = append(out, ch.frames[uint16(n)].Data...)
	}
	return out, nil
}

// Reader reads the channel's data (see Data). The channel must be ready.
func (ch *Channel) Reader() (io.Reader, error) {
	data, err := ch.Data()
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(data), nil
}
