package devnet_test

import (
	"context"
	"maps"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client"
	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/preimage"
)

var sharedInterop = sync.OnceValues(func() (*devnet.Interop, error) {
	n, err := devnet.InteropConfiguration("interop")
	if err != nil {
		return nil, err
	}
	return devnet.NewInterop(n.Config)
})

// testInterop is the "interop" devnet, generated once for all tests.
func testInterop(t *testing.T) *devnet.Interop {
	t.Helper()
	x, err := sharedInterop()
	require.NoError(t, err)
	return x
}

// logsOf lists the logs of a block's receipts, rebuilt from the devnet's preimages as a program reads them.
func logsOf(t *testing.T, x *devnet.Interop, b *types.Block) []*types.Log {
	t.Helper()
	rs, err := receiptsFromPreimages(x.Preimages(), b)
	require.NoError(t, err)
	var out []*types.Log
	for _, r := range rs {
		out = append(out, r.Logs...)
	}
	return out
}

func TestInteropDevnetChains(t *testing.T) {
	x := testInterop(t)
	chains := x.Chains()
	require.Len(t, chains, 2)
	require.Equal(t, []uint64{901, 902}, x.DependencySet().Chains())
	require.Equal(t, uint64(devnet.DefaultInteropExpiry), x.DependencySet().ExpiryWindow())
	a, b := chains[0].Rollup(), chains[1].Rollup()
	require.Equal(t, uint64(901), a.ChainID())
	require.Equal(t, uint64(902), b.ChainID())
	require.NotEqual(t, a.BatchInboxAddress, b.BatchInboxAddress)
	require.NotEqual(t, a.DepositContractAddress, b.DepositContractAddress)
	require.NotEqual(t, a.L1SystemConfigAddress, b.L1SystemConfigAddress)
	require.NotEqual(t, a.Genesis.SystemConfig.BatcherAddr, b.Genesis.SystemConfig.BatcherAddr, "each chain has its own batcher")
	require.Equal(t, chains[0].L1Head().Hash(), chains[1].L1Head().Hash(), "one L1")
	for _, d := range chains {
		require.Equal(t, d.Rollup().ChainID(), d.L2ChainConfig().ChainID.Uint64())
		require.NotEmpty(t, d.L2Genesis().Alloc[interop.CrossL2InboxAddr].Code)
		require.NotEmpty(t, d.L2Genesis().Alloc[interop.L2ToL2CrossDomainMessengerAddr].Code)
	}

	// The Lagoon activation block (block 3): the bundle wrapped in the interop deposits (two chains), the
	// upgrade gas on top of the system config's gas limit, no batch transactions.
	for _, d := range chains {
		r := d.Rollup()
		act := d.L2Block(3)
		require.True(t, r.IsActivationBlock("lagoon", act.Time()))
		want, err := derive.UpgradeTransactions(r, act.Time(), 2)
		require.NoError(t, err)
		require.Len(t, want, 30)
		var got [][]byte
		for _, tx := range act.Transactions()[1:] {
			enc, err := tx.MarshalBinary()
			require.NoError(t, err)
			got = append(got, enc)
		}
		require.Equal(t, want, got[len(got)-30:], "chain %d: the upgrade transactions end the activation block", r.ChainID())
		for _, tx := range act.Transactions() {
			require.True(t, tx.IsDepositTx())
		}
		gas, err := derive.UpgradeGas(r, act.Time())
		require.NoError(t, err)
		sys, err := derive.SystemConfigFromL2Block(r, act)
		require.NoError(t, err)
		require.Equal(t, sys.GasLimit+gas, act.GasLimit())
	}

	// Messages both ways: sent, relayed and validated, same-timestamp ones included; every transaction
	// of a block consolidation kept succeeded.
	var sent, executed, sameTime int
	for _, d := range chains {
		for n := uint64(4); n <= d.L2Head().NumberU64(); n++ {
			blk := d.L2Block(n)
			if d.Batch(n).Replaced {
				for _, tx := range blk.Transactions() {
					require.True(t, tx.IsDepositTx(), "chain %d block %d: replaced by deposits only", d.Rollup().ChainID(), n)
				}
				continue
			}
			for _, l := range logsOf(t, x, blk) {
				m, err := interop.ExecutingMessageFromLog(l)
				require.NoError(t, err)
				switch {
				case m != nil:
					executed++
					if m.ID.Timestamp == blk.Time() {
						sameTime++
					}
				case l.Address == interop.L2ToL2CrossDomainMessengerAddr && l.Topics[0] == crypto.Keccak256Hash([]byte("SentMessage(uint256,address,uint256,address,bytes)")):
					sent++
				}
			}
		}
	}
	t.Logf("%d messages sent, %d executed (%d at their own timestamp)", sent, executed, sameTime)
	require.Greater(t, sent, 20)
	require.Greater(t, executed, 20)
	require.NotZero(t, sameTime)
}

// TestInteropDevnetConsolidation: each invalid message of the configuration replaced its block in the
// first round, for the rule it breaks; every other replacement follows from one (a block executing a
// message of a replaced block).
func TestInteropDevnetConsolidation(t *testing.T) {
	x := testInterop(t)
	chains := x.Chains()
	want := map[[2]uint64]error{
		{901, 8}:  interop.ErrMessageNotFound,
		{902, 12}: interop.ErrMessageInFuture,
		{901, 18}: interop.ErrMessageExpired,
	}
	found := 0
	replaced := map[[2]uint64]bool{}
	for _, r := range x.Replacements() {
		t.Logf("chain %d block %d round %d: %s", r.Chain, r.Block, r.Round, r.Reason)
		key := [2]uint64{r.Chain, r.Block}
		replaced[key] = true
		d := chains[r.Chain-901]
		require.True(t, d.Batch(r.Block).Replaced)
		require.Equal(t, r.Replacement, d.L2Block(r.Block).Hash())
		if rule, ok := want[key]; ok {
			require.Zero(t, r.Round)
			require.ErrorIs(t, r.Err, rule)
			found++
			continue
		}
		// A cascade: the block executed a message of a block replaced before it (at its timestamp in an
		// earlier round, or earlier).
		require.ErrorIs(t, r.Err, interop.ErrMessageNotFound)
	}
	require.Equal(t, len(want), found)
	for _, d := range chains {
		for n := uint64(1); n <= d.L2Head().NumberU64(); n++ {
			require.Equal(t, replaced[[2]uint64{d.Rollup().ChainID(), n}], d.Batch(n).Replaced, "chain %d block %d", d.Rollup().ChainID(), n)
		}
	}
}

// interopClaim is a super-root claim: from the state step steps after the super root at t to the next
// state, or another.
type interopClaim struct {
	t, step uint64
	claim   common.Hash
}

// runInterop runs the program in interop mode natively on the devnet; a nil l1Head is the devnet's.
func runInterop(t *testing.T, x *devnet.Interop, c interopClaim, l1Head *common.Hash) error {
	t.Helper()
	agreed, err := x.State(c.t, c.step)
	require.NoError(t, err)
	local, err := x.LocalPreimages(agreed, c.claim, x.LastTime())
	require.NoError(t, err)
	if l1Head != nil {
		local[preimage.L1HeadLocalIndex.PreimageKey()] = l1Head.Bytes()
	}
	values := x.Preimages()
	maps.Copy(values, local)
	o := &mapOracle{values: values}
	return client.RunInterop(log.NewLogger(log.DiscardHandler()), o, o, client.Options{})
}

// TestInteropProgramAgreesWithDevnet decides super-root claims on the devnet with the program: every step
// kind of the timestamps around the Lagoon activation and the replaced blocks (every timestamp with
// FAULTPROOF_E2E=full), honest claims valid, claims of another state invalid.
func TestInteropProgramAgreesWithDevnet(t *testing.T) {
	x := testInterop(t)
	g := x.GenesisTime()
	times := []uint64{g + 5, g + 15}
	if !testing.Short() {
		times = append(times, g, g+23, g+25, g+35, x.LastTime()-1)
	}
	if fullE2E() {
		times = times[:0]
		for ts := g; ts < x.LastTime(); ts++ {
			times = append(times, ts)
		}
	}
	for _, ts := range times {
		for _, step := range []uint64{0, 1, 2, 90, interop.ConsolidateStep} {
			honest, err := x.StateHash(ts, step+1)
			require.NoError(t, err)
			require.NoError(t, runInterop(t, x, interopClaim{ts, step, honest}, nil), "t=%d step %d", ts-g, step)
			wrong, err := x.StateHash(ts, (step+2)%(interop.StepsPerTimestamp+1))
			require.NoError(t, err)
			if step == interop.ConsolidateStep && ts+1 < x.LastTime() {
				wrong, err = x.StateHash(ts+1, interop.StepsPerTimestamp)
				require.NoError(t, err)
			}
			require.ErrorIs(t, runInterop(t, x, interopClaim{ts, step, wrong}, nil), client.ErrClaimNotValid, "t=%d step %d", ts-g, step)
		}
	}
}

// TestInteropProgramConsolidationReplaces: where the devnet replaced a block, the optimistic block of
// the transition state is the replaced one, and the consolidation step gives the super root of the
// deposit-only block; a claim that keeps the optimistic block is invalid.
func TestInteropProgramConsolidationReplaces(t *testing.T) {
	x := testInterop(t)
	g := x.GenesisTime()
	ts := g + 15 // block 8 of both chains is replaced at g+16
	pre, err := x.State(ts, interop.ConsolidateStep)
	require.NoError(t, err)
	decoded, err := interop.UnmarshalPreState(pre)
	require.NoError(t, err)
	chains := x.Chains()
	for i, d := range chains {
		require.NotEqual(t, d.L2Block(8).Hash(), decoded.Transition.PendingProgress[i].BlockHash, "chain %d: the optimistic block is the replaced one", d.Rollup().ChainID())
	}
	next, err := x.SuperRoot(ts + 1)
	require.NoError(t, err)
	require.NoError(t, runInterop(t, x, interopClaim{ts, interop.ConsolidateStep, next.Root()}, nil))
	optimistic := &interop.SuperV1{Timestamp: ts + 1}
	for i, d := range chains {
		optimistic.Chains = append(optimistic.Chains, interop.ChainOutput{ChainID: d.Rollup().ChainID(), Output: decoded.Transition.PendingProgress[i].OutputRoot})
	}
	require.ErrorIs(t, runInterop(t, x, interopClaim{ts, interop.ConsolidateStep, optimistic.Root()}, nil), client.ErrClaimNotValid)
}

// TestInteropProgramEdges: a transition L1 up to the L1 head cannot derive is the invalid transition, and
// at the game timestamp the state no longer changes.
func TestInteropProgramEdges(t *testing.T) {
	x := testInterop(t)
	d := x.Chains()[0]
	// An L1 head with block n derived but not n+1: from the second before n+1, step 0 (chain 901) cannot
	// derive it.
	n := uint64(10)
	for d.Batch(n+1).DerivedFrom == d.Batch(n).DerivedFrom {
		n++
	}
	l1Head := d.L1Block(d.Batch(n).DerivedFrom).Hash()
	ts := d.L2Block(n+1).Time() - 1
	require.NoError(t, runInterop(t, x, interopClaim{ts, 0, interop.InvalidTransitionHash}, &l1Head))
	honest, err := x.StateHash(ts, 1)
	require.NoError(t, err)
	require.ErrorIs(t, runInterop(t, x, interopClaim{ts, 0, honest}, &l1Head), client.ErrClaimNotValid)
	require.NoError(t, runInterop(t, x, interopClaim{ts, 0, honest}, nil))

	// The agreed prestate at the game timestamp (the devnet's last): the claim must be the same state.
	agreed, err := x.StateHash(x.LastTime(), 0)
	require.NoError(t, err)
	require.NoError(t, runInterop(t, x, interopClaim{x.LastTime(), 0, agreed}, nil))
	require.ErrorIs(t, runInterop(t, x, interopClaim{x.LastTime(), 0, honest}, nil), client.ErrClaimNotValid)
}

func TestInteropConfigChecks(t *testing.T) {
	for name, c := range map[string]devnet.Config{
		"one chain":            {Interop: &devnet.InteropConfig{Chains: 1}},
		"lagoon past the head": {L2Blocks: 10, Interop: &devnet.InteropConfig{LagoonAt: 9}},
		"invalid before the first messages": {L2Blocks: 20, Interop: &devnet.InteropConfig{LagoonAt: 3,
			Invalid: []devnet.InvalidMessage{{Kind: devnet.InvalidMissing, Chain: 0, Block: 4}}}},
		"expired too early": {L2Blocks: 20, Interop: &devnet.InteropConfig{LagoonAt: 3,
			Invalid: []devnet.InvalidMessage{{Kind: devnet.InvalidExpired, Chain: 0, Block: 10}}}},
		"no such chain": {L2Blocks: 20, Interop: &devnet.InteropConfig{
			Invalid: []devnet.InvalidMessage{{Kind: devnet.InvalidFuture, Chain: 2, Block: 10}}}},
		"unknown kind": {L2Blocks: 20, Interop: &devnet.InteropConfig{
			Invalid: []devnet.InvalidMessage{{Kind: "stale", Chain: 0, Block: 10}}}},
		"faults": {L2Blocks: 20, InvalidBatchAt: []uint64{5}, Interop: &devnet.InteropConfig{}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := devnet.NewInterop(c)
			require.Error(t, err)
		})
	}
	_, err := devnet.New(devnet.Config{Interop: &devnet.InteropConfig{}})
	require.Error(t, err, "New makes single-chain devnets only")
}

// fullE2E says FAULTPROOF_E2E=full asks for the heavy runs.
func fullE2E() bool { return os.Getenv("FAULTPROOF_E2E") == "full" }

// receiptsFromPreimages reads a block's receipts through the program's L2 oracle from preimages.
func receiptsFromPreimages(values map[[32]byte][]byte, b *types.Block) (types.Receipts, error) {
	o := &mapOracle{values: values}
	return l2.NewOracle(o, o).ReceiptsByHash(b.Hash())
}

// TestInteropThreeChains: three chains in a ring, Lagoon at genesis; the program agrees with the devnet
// on every step kind of a few timestamps.
func TestInteropThreeChains(t *testing.T) {
	if testing.Short() {
		t.Skip("makes another interop devnet")
	}
	n, err := devnet.InteropConfiguration("interop-3-chains")
	require.NoError(t, err)
	x, err := devnet.NewInterop(n.Config)
	require.NoError(t, err)
	require.Len(t, x.Chains(), 3)
	require.Empty(t, x.Replacements(), "every message is valid")
	g := x.GenesisTime()
	for _, ts := range []uint64{g, g + 7, x.LastTime() - 1} {
		for _, step := range []uint64{0, 1, 2, 3, interop.ConsolidateStep} {
			honest, err := x.StateHash(ts, step+1)
			require.NoError(t, err)
			require.NoError(t, runInterop(t, x, interopClaim{ts, step, honest}, nil), "t=%d step %d", ts-g, step)
		}
	}
}

// TestServeInterop: the L1, each chain's L2 node (its chain ID, its consolidated blocks, their outputs)
// and the beacon node.
func TestServeInterop(t *testing.T) {
	x := testInterop(t)
	s, err := devnet.ServeInterop(context.Background(), x, "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	ctx := context.Background()
	var id hexutil.Uint64
	require.NoError(t, dialRPC(t, s.L1URL()).CallContext(ctx, &id, "eth_chainId"))
	require.Equal(t, hexutil.Uint64(900), id)
	urls := s.L2URLs()
	require.Len(t, urls, 2)
	require.Equal(t, urls[0], s.L2URL())
	for i, d := range x.Chains() {
		c := dialRPC(t, urls[i])
		require.NoError(t, c.CallContext(ctx, &id, "eth_chainId"))
		require.Equal(t, hexutil.Uint64(d.Rollup().ChainID()), id)
		for _, r := range x.Replacements() {
			if r.Chain != d.Rollup().ChainID() {
				continue
			}
			var out devnet.OutputResponse
			require.NoError(t, c.CallContext(ctx, &out, "optimism_outputAtBlock", hexutil.Uint64(r.Block)))
			require.Equal(t, r.Replacement, out.BlockRef.Hash, "the node has the consolidated block")
			require.Equal(t, d.OutputRoot(r.Block), out.OutputRoot)
			var head map[string]any
			require.NoError(t, c.CallContext(ctx, &head, "eth_getBlockByHash", r.Optimistic, false))
			require.Nil(t, head, "the node does not have the replaced block")
		}
	}
	resp, err := http.Get(s.BeaconURL() + "/eth/v1/beacon/genesis")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	n := s.Requests()
	require.Len(t, n.L2s, 2)
	require.NotZero(t, n.L2s[1]["eth_chainId"])
}
