package derive

import (
	"io"
	"testing"

	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/rollup"
)

func fr(id byte, n uint16, last bool) Frame {
	return Frame{ID: ChannelID{id}, FrameNumber: n, Data: []byte{id, byte(n)}, IsLast: last}
}

func TestHoloceneFramePruning(t *testing.T) {
	tests := []struct {
		name string
		in   []Frame
		want []Frame
	}{
		{"ordered frames of one channel stay", []Frame{fr(1, 0, false), fr(1, 1, false), fr(1, 2, true)}, []Frame{fr(1, 0, false), fr(1, 1, false), fr(1, 2, true)}},
		{"a gap drops the out-of-order frame", []Frame{fr(1, 0, false), fr(1, 2, true)}, []Frame{fr(1, 0, false)}},
		{"a frame after the closing frame is dropped", []Frame{fr(1, 0, true), fr(1, 1, false)}, []Frame{fr(1, 0, true)}},
		{"a non-first frame of another channel is dropped", []Frame{fr(1, 0, true), fr(2, 1, false)}, []Frame{fr(1, 0, true)}},
		{"a first frame after an unclosed channel drops that channel", []Frame{fr(1, 0, false), fr(1, 1, false), fr(2, 0, true)}, []Frame{fr(2, 0, true)}},
		{"a first frame after a closed channel starts the next one", []Frame{fr(1, 0, true), fr(2, 0, false)}, []Frame{fr(1, 0, true), fr(2, 0, false)}},
		{"the same channel reopened is out of order", []Frame{fr(1, 0, false), fr(1, 0, false)}, []Frame{fr(1, 0, false)}},
		{"a leading non-first frame is kept (the channel bank decides)", []Frame{fr(1, 3, false), fr(1, 4, true)}, []Frame{fr(1, 3, false), fr(1, 4, true)}},
		// Found by the differential fuzzer (crosscheck/batches): after the unclosed channel is dropped, the
		// first frame is compared with the frame now before it, here the same closed channel.
		{"a first frame that drops an unclosed channel is checked against the frame before it",
			[]Frame{fr(1, 0, true), fr(2, 0, false), fr(1, 0, true)}, []Frame{fr(1, 0, true)}},
		{"... and kept after another closed channel",
			[]Frame{fr(1, 0, true), fr(2, 0, false), fr(2, 1, false), fr(3, 0, true)}, []Frame{fr(1, 0, true), fr(3, 0, true)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, pruneHoloceneFrames(append([]Frame{}, tt.in...)))
		})
	}
}

// frameFeed is a FrameProvider over a fixed list of frames per L1 block.
type frameFeed struct {
	origin L1BlockRef
	frames []Frame
}

func (f *frameFeed) Origin() L1BlockRef { return f.origin }
func (f *frameFeed) NextFrame() (Frame, error) {
	if len(f.frames) == 0 {
		return Frame{}, io.EOF
	}
	x := f.frames[0]
	f.frames = f.frames[1:]
	return x, nil
}

func drain(t *testing.T, b *ChannelBank) [][]byte {
	var out [][]byte
	for i := 0; i < 1000; i++ {
		data, err := b.NextChannel()
		switch err {
		case nil:
			out = append(out, data)
		case ErrNotEnoughData:
		case io.EOF:
			return out
		default:
			require.NoError(t, err)
		}
	}
	require.FailNow(t, "channel bank does not settle")
	return nil
}

// newBank is a channel bank reset to the feed's origin.
func newBank(cfg *rollup.Config, feed *frameFeed) *ChannelBank {
	b := NewChannelBank(cfg, log.New(), feed)
	b.Reset(feed.origin)
	return b
}

func bankConfig(canyon, holocene *uint64) *rollup.Config {
	return &rollup.Config{ChannelTimeoutBedrock: 2, CanyonTime: canyon, HoloceneTime: holocene, GraniteTime: nil}
}

func TestChannelBankPreHolocene(t *testing.T) {
	zero := uint64(0)
	t.Run("frames out of order assemble", func(t *testing.T) {
		feed := &frameFeed{origin: L1BlockRef{Number: 10, Time: 100}, frames: []Frame{fr(1, 1, true), fr(1, 0, false)}}
		b := newBank(bankConfig(nil, nil), feed)
		require.Equal(t, [][]byte{{1, 0, 1, 1}}, drain(t, b))
	})
	t.Run("before Canyon only the first channel is read", func(t *testing.T) {
		feed := &frameFeed{origin: L1BlockRef{Number: 10, Time: 100}, frames: []Frame{fr(1, 0, false), fr(2, 0, true)}}
		b := newBank(bankConfig(nil, nil), feed)
		require.Empty(t, drain(t, b), "channel 2 is ready but channel 1 blocks it")
	})
	t.Run("from Canyon the first ready channel is read", func(t *testing.T) {
		feed := &frameFeed{origin: L1BlockRef{Number: 10, Time: 100}, frames: []Frame{fr(1, 0, false), fr(2, 0, true)}}
		b := newBank(bankConfig(&zero, nil), feed)
		require.Equal(t, [][]byte{{2, 0}}, drain(t, b))
	})
	t.Run("a timed-out channel drops its late frames", func(t *testing.T) {
		feed := &frameFeed{origin: L1BlockRef{Number: 10, Time: 100}, frames: []Frame{fr(1, 0, false)}}
		b := newBank(bankConfig(nil, nil), feed)
		require.Empty(t, drain(t, b))
		feed.origin = L1BlockRef{Number: 13, Time: 130} // open at 10, timeout 2: timed out after 12
		feed.frames = []Frame{fr(1, 1, true)}
		require.Empty(t, drain(t, b))
	})
	t.Run("a channel still in time completes", func(t *testing.T) {
		feed := &frameFeed{origin: L1BlockRef{Number: 10, Time: 100}, frames: []Frame{fr(1, 0, false)}}
		b := newBank(bankConfig(nil, nil), feed)
		require.Empty(t, drain(t, b))
		feed.origin = L1BlockRef{Number: 12, Time: 120}
		feed.frames = []Frame{fr(1, 1, true)}
		require.Equal(t, [][]byte{{1, 0, 1, 1}}, drain(t, b))
	})
}

func TestChannelBankHolocene(t *testing.T) {
	zero := uint64(0)
	cfg := bankConfig(&zero, &zero)
	t.Run("a first frame replaces the unfinished channel", func(t *testing.T) {
		feed := &frameFeed{origin: L1BlockRef{Number: 10}, frames: []Frame{fr(1, 0, false), fr(2, 0, false), fr(2, 1, true)}}
		require.Equal(t, [][]byte{{2, 0, 2, 1}}, drain(t, newBank(cfg, feed)))
	})
	t.Run("a frame without a channel is dropped", func(t *testing.T) {
		feed := &frameFeed{origin: L1BlockRef{Number: 10}, frames: []Frame{fr(1, 1, true)}}
		require.Empty(t, drain(t, newBank(cfg, feed)))
	})
	t.Run("an out-of-order frame is dropped and the channel waits", func(t *testing.T) {
		feed := &frameFeed{origin: L1BlockRef{Number: 10}, frames: []Frame{fr(1, 0, false), fr(1, 2, true), fr(1, 1, true)}}
		require.Equal(t, [][]byte{{1, 0, 1, 1}}, drain(t, newBank(cfg, feed)))
	})
	t.Run("a flushed channel is gone", func(t *testing.T) {
		feed := &frameFeed{origin: L1BlockRef{Number: 10}, frames: []Frame{fr(1, 0, false)}}
		b := newBank(cfg, feed)
		require.Empty(t, drain(t, b))
		b.FlushChannel()
		feed.frames = []Frame{fr(1, 1, true)}
		require.Empty(t, drain(t, b))
	})
	t.Run("a timed-out staging channel is dropped", func(t *testing.T) {
		feed := &frameFeed{origin: L1BlockRef{Number: 10}, frames: []Frame{fr(1, 0, false)}}
		b := newBank(cfg, feed)
		require.Empty(t, drain(t, b))
		feed.origin = L1BlockRef{Number: 13}
		feed.frames = []Frame{fr(1, 1, true)}
		require.Empty(t, drain(t, b))
	})
}

// TestChannelBankHoloceneTransform: the rules are the stage's mode, set at reset and switched by
// TransformHolocene (which drops the channels buffered before), not the L1 origin's time.
func TestChannelBankHoloceneTransform(t *testing.T) {
	at := uint64(100)
	cfg := bankConfig(nil, &at)
	feed := &frameFeed{origin: L1BlockRef{Number: 9, Time: 90}, frames: []Frame{fr(1, 1, true)}}
	b := newBank(cfg, feed)
	require.Empty(t, drain(t, b), "pre-Holocene: frame 1 waits for frame 0")

	// Holocene by time, without the transform (op-node's pipeline missed it): the pre-Holocene rules stay,
	// and the channel is read out of order.
	feed.origin = L1BlockRef{Number: 10, Time: 100}
	feed.frames = []Frame{fr(1, 0, false)}
	require.Equal(t, [][]byte{{1, 0, 1, 1}}, drain(t, b))

	// The transform drops what the bank holds and takes frames in order only.
	feed.frames = []Frame{fr(2, 1, true)}
	require.Empty(t, drain(t, b))
	b.TransformHolocene()
	feed.frames = []Frame{fr(2, 0, false), fr(3, 1, true), fr(2, 1, true)}
	require.Equal(t, [][]byte{{2, 0, 2, 1}}, drain(t, b))

	// A reset at a Holocene origin starts with the Holocene rules.
	b = newBank(cfg, &frameFeed{origin: L1BlockRef{Number: 10, Time: 100}, frames: []Frame{fr(4, 1, true), fr(4, 0, true)}})
	require.Equal(t, [][]byte{{4, 0}}, drain(t, b))
}
