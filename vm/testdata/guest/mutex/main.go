// Command mutex is a guest program for the vm tests: goroutines share
// counters under a sync.Mutex, read a table under a sync.RWMutex, hand work
// over with a sync.Cond, start once with a sync.Once and are joined with a
// sync.WaitGroup; it prints a checksum that does not depend on the order in
// which the goroutines ran, and exits with code 0.
//
// The go:debug directive stops the Go 1.25+ runtime from naming its memory
// mappings with prctl(PR_SET_VMA), a syscall Cannon does not implement (the
// VM would stop with an unrecognized syscall).
//
//go:debug decoratemappings=0
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

func main() {
	const workers = 6
	const rounds = 300

	// Mutex: every worker adds to shared counters.
	var mu sync.Mutex
	var sum, xor uint64
	// RWMutex: a table written rarely and read often.
	var rw sync.RWMutex
	table := make([]uint64, 64)
	var reads atomic.Uint64
	// Once: the table is seeded once, by whichever worker gets there first.
	var once sync.Once
	var seeded atomic.Int32

	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			once.Do(func() {
				rw.Lock()
				for i := range table {
					table[i] = uint64(i) * 0x9e3779b97f4a7c15
				}
				rw.Unlock()
				seeded.Add(1)
			})
			for r := 0; r < rounds; r++ {
				v := uint64(w*rounds+r) * 0x100000001b3
				if r%50 == 0 {
					rw.Lock()
					table[(w+r)%len(table)] ^= v
					rw.Unlock()
				} else {
					rw.RLock()
					_ = table[(w*7+r)%len(table)]
					rw.RUnlock()
					reads.Add(1)
				}
				mu.Lock()
				sum += v
				xor ^= v
				mu.Unlock()
				if r%37 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	wg.Wait()

	// Cond: a producer hands items to two consumers through a bounded queue.
	var cmu sync.Mutex
	cond := sync.NewCond(&cmu)
	var queue []uint64
	done := false
	var consumed, consumedSum uint64
	var cwg sync.WaitGroup
	for c := 0; c < 2; c++ {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for {
				cmu.Lock()
				for len(queue) == 0 && !done {
					cond.Wait()
				}
				if len(queue) == 0 && done {
					cmu.Unlock()
					return
				}
				v := queue[0]
				queue = queue[1:]
				consumed++
				consumedSum += v
				cond.Broadcast()
				cmu.Unlock()
			}
		}()
	}
	for i := uint64(1); i <= 500; i++ {
		cmu.Lock()
		for len(queue) >= 8 {
			cond.Wait()
		}
		queue = append(queue, i*i)
		cond.Broadcast()
		cmu.Unlock()
	}
	cmu.Lock()
	done = true
	cond.Broadcast()
	cmu.Unlock()
	cwg.Wait()

	var tableSum uint64
	for _, v := range table {
		tableSum += v
	}
	fmt.Printf("sum=%d xor=%d reads=%d table=%d once=%d consumed=%d/%d\n",
		sum, xor, reads.Load(), tableSum, seeded.Load(), consumed, consumedSum)
	os.Exit(0)
}
