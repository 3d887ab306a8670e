package bench

// The recorded anchors of 'faultproof bench': figures measured once, by hand or by a test that is too heavy
// (or needs binaries too big) to run with every 'faultproof bench', with where they come from. Each is
// shown as "recorded" beside this build's figure; an anchor 'faultproof bench' measures in the same run
// (without the witness fast path, or Cannon with --cannon) is shown as "measured" instead. Change one only
// with a new measurement, and say in its provenance what was run where.
var (
	// op-program's native time on a one-block claim whose batch is in a blob.
	anchorOpProgramNativeClaim = Anchor{
		Value: 0.145, Unit: "s", Kind: Recorded,
		Source: "op-program v1.19.0, native, devnet one-block blob claim (block 18), whole process",
		Provenance: "'faultproof bench --op-program' at commit b38cc05 (2026-12-07, load average 1.1-1.5): op-program " +
			"v1.19.0's host built from the Go module by crosscheck/refbuild, natively (no VM), offline on the same " +
			"claim and datadir as this row, median of 3 whole processes on the 2-core CI machine; --op-program " +
			"measures it again",
	}

	// op-program's VM steps on the devnet's 6-block claim (the demo's honest output root).
	anchorOpProgramSteps = Anchor{
		Value: 1_805_854_331, Unit: "steps", Kind: Recorded,
		Source: "op-program v1.19.0's MIPS64 client, same claim",
		Provenance: "op-program v1.19.0's MIPS64 client built from the Go module (crosscheck), under Cannon v1.19.6 " +
			"with op-program's host serving its own datadir, on the default devnet's 6-block claim (agreed block 64, " +
			"claim 70); same final state in our VM; issue #18's opening measurements",
	}

	// Our own step counts of the demo's other claims, as README's "Benchmarks" recorded them (commit a704f28).
	anchorReadmeStepsHolocene = readmeSteps(367e6, "5 blocks across Holocene")
	anchorReadmeStepsBlobs    = readmeSteps(242e6, "2-block claim from blobs")
	anchorReadmeStepsBehind   = readmeSteps(21e6, "claim behind the agreed block")

	// Cannon's speed in its run loop.
	anchorCannonStepsPerSecond = Anchor{
		Value: 26.4e6, Unit: "steps/s", Kind: Recorded,
		Source: "Cannon v1.19.6, bench vm, 221 M-step guest, run loop",
		Provenance: "'faultproof bench vm --cannon' at commit 38e6473 (2026-12-07, quiet machine, load 0.15-0.7) with " +
			"Cannon v1.19.6 built from the Go module (crosscheck TestBenchVMAgainstCannon, the long-run guest, " +
			"221,407,025 steps), Cannon's process fixed cost subtracted, median of 5, on the 2-core CI machine " +
			"(22.5 M in README since commit 001e44d, on a loaded machine)",
	}

	// The native re-execution of one block, and the memory of the runs, as README recorded them (a704f28).
	anchorReadmeNativeBlock = Anchor{
		Value: 0.45, Unit: "ms", Kind: Recorded,
		Source: "faultproof README (a704f28), same benchmark",
		Provenance: "README \"Benchmarks\" at commit a704f28: 'faultproof bench' (now 'bench native'), 20 devnet " +
			"blocks of ~5 transactions, median per block, on the 2-core CI machine",
	}
	anchorReadmeNativeRSS = Anchor{
		Value: 59, Unit: "MiB", Kind: Recorded,
		Source:     "faultproof README (a704f28), same benchmark",
		Provenance: anchorReadmeNativeBlock.Provenance + "; peak RSS of the process",
	}
	anchorReadmeOnlineRSS = Anchor{
		Value: 155, Unit: "MiB", Kind: Recorded,
		Source: "faultproof README (a704f28), bench online",
		Provenance: "README \"Benchmarks\" at commit a704f28: 'faultproof bench online', devnet + server + host + " +
			"program in one process, on the 2-core CI machine",
	}

	// L1 round trips of the honest claim with the L1 head 100 blocks past the data, one header per request
	// (before the walk back in batches).
	anchorOneHeaderPerRequest = Anchor{
		Value: 142, Unit: "round trips", Kind: Recorded,
		Source: "one L1 header per request (before batching)",
		Provenance: "'faultproof bench online --l1.past 100' before the L1 walk back in JSON-RPC batches (issue #18 " +
			"item 4, stop 23's closing note: L1 round trips 142 -> 32 at 100 blocks past); README \"Benchmarks\"",
	}
)

func readmeSteps(steps float64, claim string) Anchor {
	return Anchor{
		Value: steps, Unit: "steps", Kind: Recorded,
		Source: "faultproof README (a704f28), same claim",
		Provenance: "README \"Benchmarks\" at commit a704f28: 'faultproof bench program', " + claim +
			" (rounded to millions)",
	}
}
