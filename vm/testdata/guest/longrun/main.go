// Command longrun is the long-run guest program of the VM's differential
// tests: about 220 million VM steps of SHA-256 chains, Keccak-256, math/big
// modular exponentiation and map and allocation churn, spread over worker
// goroutines in rounds. It prints a checksum that does not depend on the
// order in which the goroutines ran and exits with code 0.
//
// The go:debug directive stops the Go 1.25+ runtime from naming its memory
// mappings with prctl(PR_SET_VMA), a syscall Cannon does not implement (the
// VM would stop with an unrecognized syscall).
//
//go:debug decoratemappings=0
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"
	"os"
	"runtime"
	"sync"

	"golang.org/x/crypto/sha3"
)

const (
	rounds  = 5
	workers = 3
)

// work is one worker's share of a round; its result depends only on seed.
func work(seed uint64) [32]byte {
	buf := make([]byte, 2048)
	for i := range buf {
		buf[i] = byte(seed>>(i%8*8)) ^ byte(i)
	}
	// A SHA-256 chain over a 2 KiB buffer.
	sum := sha256.Sum256(buf)
	for i := 0; i < 40; i++ {
		copy(buf, sum[:])
		sum = sha256.Sum256(buf)
	}
	// Keccak-256 over the same buffer.
	k := sha3.NewLegacyKeccak256()
	for i := 0; i < 10; i++ {
		k.Write(buf)
		k.Write(sum[:])
	}
	kd := k.Sum(nil)
	// Modular exponentiation modulo the BN254 scalar field prime.
	p, _ := new(big.Int).SetString("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001", 16)
	x := new(big.Int).SetBytes(kd)
	for i := 0; i < 3; i++ {
		x.Exp(x, new(big.Int).SetBytes(sum[:]), p)
	}
	// Map and allocation churn.
	m := make(map[uint64][]byte)
	for i := uint64(0); i < 400; i++ {
		m[i*seed] = make([]byte, 64+i%128)
	}
	// A large short-lived buffer per call makes the collector run.
	scratch := make([]byte, 1<<20)
	scratch[seed%uint64(len(scratch))] = byte(seed)
	churn := uint64(scratch[seed%uint64(len(scratch))])
	for key, v := range m {
		churn += key ^ uint64(len(v))
	}
	h := sha256.New()
	h.Write(sum[:])
	h.Write(kd)
	h.Write(x.Bytes())
	h.Write(binary.BigEndian.AppendUint64(nil, churn))
	return [32]byte(h.Sum(nil))
}

func main() {
	acc := sha256.Sum256([]byte("longrun"))
	for r := 0; r < rounds; r++ {
		results := make([][32]byte, workers)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[w] = work(binary.BigEndian.Uint64(acc[:8]) + uint64(w))
			}()
		}
		wg.Wait()
		h := sha256.New()
		h.Write(acc[:])
		for _, res := range results {
			h.Write(res[:])
		}
		copy(acc[:], h.Sum(nil))
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("rounds=%d checksum=%x gc=%v\n", rounds, acc, ms.NumGC > 0)
	os.Exit(0)
}
