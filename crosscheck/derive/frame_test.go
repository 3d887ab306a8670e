package derive_test

import (
	"bytes"
	"context"
	"io"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/log"

	"github.com/stretchr/testify/require"

	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

func randomFrames(rng *rand.Rand) []derive.Frame {
	frames := make([]derive.Frame, 1+rng.Intn(4))
	for i := range frames {
		rng.Read(frames[i].ID[:])
		frames[i].FrameNumber = uint16(rng.Intn(1 << 16))
		frames[i].Data = make([]byte, []int{0, 1, rng.Intn(100), rng.Intn(5000)}[rng.Intn(4)])
		rng.Read(frames[i].Data)
		frames[i].IsLast = rng.Intn(2) == 0
	}
	return frames
}

func toOpFrame(f derive.Frame) opderive.Frame {
	return opderive.Frame{ID: opderive.ChannelID(f.ID), FrameNumber: f.FrameNumber, Data: f.Data, IsLast: f.IsLast}
}

func requireSameFrames(t *testing.T, ours []derive.Frame, op []opderive.Frame) {
	t.Helper()
	require.Equal(t, len(op), len(ours))
	for i := range op {
		require.Equal(t, [16]byte(op[i].ID), [16]byte(ours[i].ID))
		require.Equal(t, op[i].FrameNumber, ours[i].FrameNumber)
		require.True(t, bytes.Equal(op[i].Data, ours[i].Data))
		require.Equal(t, op[i].IsLast, ours[i].IsLast)
	}
}

// Batcher transactions: ours → op-node and op-node → ours, then damaged payloads parsed by both.
func TestFramesMatchOpNode(t *testing.T) {
	rng := rand.New(rand.NewSource(100))
	for range iterations(300) {
		frames := randomFrames(rng)

		// ours → op-node
		payload, err := derive.BatcherTxData(frames...)
		require.NoError(t, err)
		opFrames, err := opderive.ParseFrames(payload)
		require.NoError(t, err)
		requireSameFrames(t, frames, opFrames)

		// op-node → ours
		var buf bytes.Buffer
		buf.WriteByte(0)
		for _, f := range frames {
			of := toOpFrame(f)
			require.NoError(t, of.MarshalBinary(&buf))
		}
		require.Equal(t, payload, buf.Bytes(), "both encode the same bytes")
		ours, err := derive.ParseFrames(buf.Bytes())
		require.NoError(t, err)
		requireSameFrames(t, ours, opFrames)

		// Damaged payloads: both accept (the same frames) or both reject.
		for range 20 {
			bad := mutate(rng, payload)
			ours, ourErr := derive.ParseFrames(bad)
			op, opErr := opderive.ParseFrames(bad)
			require.Equal(t, opErr == nil, ourErr == nil, "payload %x: op-node %v, ours %v", bad, opErr, ourErr)
			if ourErr == nil {
				requireSameFrames(t, ours, op)
			}
		}
	}
	for _, data := range [][]byte{nil, {0}, {1}, {0, 0}} {
		_, ourErr := derive.ParseFrames(data)
		_, opErr := opderive.ParseFrames(data)
		require.Equal(t, opErr == nil, ourErr == nil, "payload %x", data)
	}
}

// Channel assembly: the same frames, in the same order, added to our Channel and op-node's, pre-Holocene
// and Holocene; after each frame both accept or both drop it, and readiness, size and data agree.
func TestChannelAssemblyMatchesOpNode(t *testing.T) {
	rng := rand.New(rand.NewSource(101))
	id := derive.ChannelID{1, 2, 3}
	pruned := 0 // closing frames that removed higher frames, and with them the size of every frame
	for _, holocene := range []bool{false, true} {
		for range iterations(2000) {
			ours := derive.NewChannel(id, rollup.BlockID{Number: 5}, holocene)
			op := opderive.NewChannel(opderive.ChannelID(id), eth.L1BlockRef{Number: 5}, holocene)
			maxNum := 1 + rng.Intn(8)
			for step := range 4 + rng.Intn(12) {
				f := derive.Frame{ID: id, FrameNumber: uint16(rng.Intn(maxNum)), IsLast: rng.Intn(4) == 0}
				if holocene && rng.Intn(2) == 0 {
					f.FrameNumber = uint16(ours.FrameCount()) // mostly in order, so Holocene channels complete
				}
				if rng.Intn(20) == 0 {
					f.ID[0] ^= 1
				}
				f.Data = make([]byte, rng.Intn(50))
				rng.Read(f.Data)

				before := ours.FrameCount()
				ourErr := ours.AddFrame(f)
				if ourErr == nil && ours.FrameCount() <= before {
					pruned++
				}
				opErr := op.AddFrame(toOpFrame(f), eth.L1BlockRef{Number: 6})
				require.Equal(t, opErr == nil, ourErr == nil, "step %d frame %d last %v: op-node %v, ours %v",
					step, f.FrameNumber, f.IsLast, opErr, ourErr)
				require.Equal(t, op.IsReady(), ours.IsReady(), "step %d", step)
				require.Equal(t, op.Size(), ours.Size(), "step %d", step)
				if ours.IsReady() {
					data, err := ours.Data()
					require.NoError(t, err)
					var opData bytes.Buffer
					_, err = opData.ReadFrom(op.Reader())
					require.NoError(t, err)
					require.True(t, bytes.Equal(opData.Bytes(), data))
				}
			}
		}
	}
	require.Positive(t, pruned, "closing frames that prune")
	t.Logf("%d closing frames pruned higher frames; sizes agreed after each", pruned)
}

// The size after a closing frame removes higher-numbered frames (pre-Holocene): op-node v1.19.6 subtracts
// the size of every buffered frame, not only of the removed ones (channel.go, AddFrame), so the size
// restarts from the closing frame; the specs count every frame the channel holds. The size feeds channel
// bank pruning (MAX_CHANNEL_BANK_SIZE); we follow op-node.
func TestChannelSizeAfterPruneMatchesOpNode(t *testing.T) {
	id := derive.ChannelID{9}
	ours := derive.NewChannel(id, rollup.BlockID{}, false)
	op := opderive.NewChannel(opderive.ChannelID(id), eth.L1BlockRef{}, false)
	for _, f := range []derive.Frame{
		{ID: id, FrameNumber: 0, Data: make([]byte, 10)},
		{ID: id, FrameNumber: 3, Data: make([]byte, 30)},
		{ID: id, FrameNumber: 1, Data: make([]byte, 20), IsLast: true}, // removes frame 3
	} {
		require.NoError(t, ours.AddFrame(f))
		require.NoError(t, op.AddFrame(toOpFrame(f), eth.L1BlockRef{}))
		require.Equal(t, op.Size(), ours.Size(), "after frame %d", f.FrameNumber)
	}
	require.True(t, ours.IsReady())
	require.True(t, op.IsReady())
	require.Equal(t, uint64(20+200), ours.Size(), "op-node: only the closing frame (the specs: frames 0 and 1)")
}

// frameFeed is one batcher transaction's data as both frame queues read it.
type frameFeed struct {
	data []byte
	done bool
}

func (f *frameFeed) Origin() eth.L1BlockRef                   { return eth.L1BlockRef{Time: 10} }
func (f *frameFeed) ourOrigin() derive.L1BlockRef             { return derive.L1BlockRef{Time: 10} }
func (f *frameFeed) next() ([]byte, error)                    { return f.nextData() }
func (f *frameFeed) NextData(context.Context) ([]byte, error) { return f.nextData() }
func (f *frameFeed) nextData() ([]byte, error) {
	if f.done {
		return nil, io.EOF
	}
	f.done = true
	return f.data, nil
}

type ourFrameFeed struct{ *frameFeed }

func (f ourFrameFeed) Origin() derive.L1BlockRef { return f.ourOrigin() }
func (f ourFrameFeed) NextData() ([]byte, error) { return f.next() }

// Holocene's frame queue: the frames of one batcher transaction, pruned to ordered and contiguous channels,
// by both frame queues. Frames of three channels, numbered 0 to 3, closing or not, in any order.
func TestHoloceneFrameQueueMatchesOpNode(t *testing.T) {
	rng := rand.New(rand.NewSource(102))
	holocene := u64p(0)
	ours := ourConfig()
	ours.HoloceneTime = holocene
	op := opConfig()
	op.HoloceneTime = holocene
	quiet := log.NewLogger(log.DiscardHandler())
	pruned := 0
	for range iterations(20000) {
		frames := make([]derive.Frame, 1+rng.Intn(7))
		for i := range frames {
			frames[i] = derive.Frame{ID: derive.ChannelID{byte(rng.Intn(3))}, FrameNumber: uint16(rng.Intn(4)),
				IsLast: rng.Intn(3) == 0, Data: []byte{byte(i)}}
		}
		data, err := derive.BatcherTxData(frames...)
		require.NoError(t, err)
		ourQ := derive.NewFrameQueue(ours, quiet, ourFrameFeed{&frameFeed{data: data}})
		opQ := opderive.NewFrameQueue(quiet, op, &frameFeed{data: data})
		var got []derive.Frame
		var want []opderive.Frame
		for {
			f, err := ourQ.NextFrame()
			if err != nil {
				break
			}
			got = append(got, f)
		}
		for {
			f, err := opQ.NextFrame(context.Background())
			if err != nil {
				break
			}
			want = append(want, f)
		}
		requireSameFrames(t, got, want)
		if len(got) < len(frames) {
			pruned++
		}
	}
	t.Logf("%d transactions pruned alike", pruned)
}
