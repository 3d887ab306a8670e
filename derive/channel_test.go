package derive_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

var testChannelID = derive.ChannelID{0xc0, 0xff, 0xee}

// fr is a frame of testChannelID whose data is its name.
func fr(num uint16, data string, last bool) derive.Frame {
	return derive.Frame{ID: testChannelID, FrameNumber: num, Data: []byte(data), IsLast: last}
}

type channelStep struct {
	frame derive.Frame
	err   error // nil: added
}

func TestChannelPreHoloceneSpecRules(t *testing.T) {
	tests := []struct {
		name  string
		steps []channelStep
		ready bool
		data  string
		size  uint64 // frame data plus 200 per frame counted (see derive.Channel.Size)
	}{
		{
			name:  "single closing frame is ready",
			steps: []channelStep{{fr(0, "abc", true), nil}},
			ready: true, data: "abc", size: 3 + 200,
		},
		{
			name:  "frames may arrive out of order",
			steps: []channelStep{{fr(2, "c", true), nil}, {fr(0, "a", false), nil}, {fr(1, "b", false), nil}},
			ready: true, data: "abc", size: 3 + 3*200,
		},
		{
			name:  "not ready without the closing frame",
			steps: []channelStep{{fr(0, "a", false), nil}, {fr(1, "b", false), nil}},
			size:  2 + 2*200,
		},
		{
			name:  "not ready with a gap before the closing frame",
			steps: []channelStep{{fr(0, "a", false), nil}, {fr(2, "c", true), nil}},
			size:  2 + 2*200,
		},
		{
			name:  "duplicate frame number is dropped, the first one stays",
			steps: []channelStep{{fr(0, "a", false), nil}, {fr(0, "X", false), derive.ErrDuplicateFrame}, {fr(1, "b", true), nil}},
			ready: true, data: "ab", size: 2 + 2*200,
		},
		{
			name:  "duplicate frame number is dropped even if it closes",
			steps: []channelStep{{fr(1, "b", false), nil}, {fr(1, "X", true), derive.ErrDuplicateFrame}},
			size:  1 + 200,
		},
		{
			name:  "duplicate close is dropped",
			steps: []channelStep{{fr(1, "b", true), nil}, {fr(2, "c", true), derive.ErrDuplicateClose}, {fr(0, "a", false), nil}},
			ready: true, data: "ab", size: 2 + 2*200,
		},
		{
			name:  "earlier duplicate close is dropped too",
			steps: []channelStep{{fr(2, "c", true), nil}, {fr(1, "b", true), derive.ErrDuplicateClose}},
			size:  1 + 200,
		},
		{
			// op-node: the size then restarts from the closing frame (the specs: 2 + 2*200, frames 0 and 1).
			name: "closing frame removes higher-numbered frames, and the size of every frame before it",
			steps: []channelStep{
				{fr(3, "dddd", false), nil}, {fr(5, "ffffff", false), nil}, {fr(0, "a", false), nil},
				{fr(1, "b", true), nil},
			},
			ready: true, data: "ab", size: 1 + 200,
		},
		{
			name: "after such a close, frames below it count again",
			steps: []channelStep{
				{fr(3, "dddd", false), nil}, {fr(0, "a", false), nil}, {fr(2, "cc", true), nil}, {fr(1, "b", false), nil},
			},
			ready: true, data: "abcc", size: 2 + 200 + 1 + 200,
		},
		{
			name: "a closing frame above every frame keeps the size",
			steps: []channelStep{
				{fr(0, "a", false), nil}, {fr(1, "b", false), nil}, {fr(3, "dddd", true), nil},
			},
			size: 6 + 3*200,
		},
		{
			name:  "frame past the closing frame is dropped",
			steps: []channelStep{{fr(1, "b", true), nil}, {fr(2, "c", false), derive.ErrFrameAfterLast}, {fr(0, "a", false), nil}},
			ready: true, data: "ab", size: 2 + 2*200,
		},
		{
			name:  "frame of another channel is refused",
			steps: []channelStep{{derive.Frame{ID: derive.ChannelID{1}, FrameNumber: 0, IsLast: true}, derive.ErrWrongChannel}},
		},
		{
			name:  "empty frames count their overhead",
			steps: []channelStep{{fr(0, "", false), nil}, {fr(1, "", true), nil}},
			ready: true, data: "", size: 2 * 200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runChannel(t, false, tt.steps, tt.ready, tt.data, tt.size)
		})
	}
}

func TestChannelHoloceneSpecRules(t *testing.T) {
	tests := []struct {
		name  string
		steps []channelStep
		ready bool
		data  string
		size  uint64
	}{
		{
			name:  "in-order frames make the channel",
			steps: []channelStep{{fr(0, "a", false), nil}, {fr(1, "b", false), nil}, {fr(2, "c", true), nil}},
			ready: true, data: "abc", size: 3 + 3*200,
		},
		{
			name:  "a non-first frame out of order is dropped",
			steps: []channelStep{{fr(0, "a", false), nil}, {fr(2, "c", true), derive.ErrFrameOutOfOrder}, {fr(1, "b", true), nil}},
			ready: true, data: "ab", size: 2 + 2*200,
		},
		{
			name:  "a channel starts with frame 0",
			steps: []channelStep{{fr(1, "b", false), derive.ErrFrameOutOfOrder}},
		},
		{
			name:  "duplicate frame is dropped",
			steps: []channelStep{{fr(0, "a", false), nil}, {fr(0, "a", false), derive.ErrDuplicateFrame}, {fr(1, "b", true), nil}},
			ready: true, data: "ab", size: 2 + 2*200,
		},
		{
			name:  "nothing is added after the closing frame",
			steps: []channelStep{{fr(0, "a", true), nil}, {fr(1, "b", false), derive.ErrFrameAfterLast}, {fr(1, "b", true), derive.ErrDuplicateClose}},
			ready: true, data: "a", size: 1 + 200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runChannel(t, true, tt.steps, tt.ready, tt.data, tt.size)
		})
	}
}

func runChannel(t *testing.T, holocene bool, steps []channelStep, ready bool, data string, size uint64) {
	t.Helper()
	open := rollup.BlockID{Number: 42}
	ch := derive.NewChannel(testChannelID, open, holocene)
	require.Equal(t, open, ch.OpenBlock())
	require.Equal(t, testChannelID, ch.ID())
	for i, s := range steps {
		before := ch.Size()
		err := ch.AddFrame(s.frame)
		if s.err != nil {
			require.ErrorIs(t, err, s.err, "step %d", i)
			require.Equal(t, before, ch.Size(), "a dropped frame leaves the channel unchanged (step %d)", i)
		} else {
			require.NoError(t, err, "step %d", i)
		}
	}
	require.Equal(t, ready, ch.IsReady())
	require.Equal(t, size, ch.Size())
	got, err := ch.Data()
	if !ready {
		require.ErrorIs(t, err, derive.ErrChannelNotReady)
		_, err = ch.Reader()
		require.ErrorIs(t, err, derive.ErrChannelNotReady)
		return
	}
	require.NoError(t, err)
	require.Equal(t, data, string(got))
}
