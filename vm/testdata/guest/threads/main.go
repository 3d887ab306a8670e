// Command threads is a guest program for the vm tests: it runs goroutines
// that talk over channels while allocating enough to make the garbage
// collector run, prints a checksum and exits with code 1.
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
)

func main() {
	const workers = 4
	const jobs = 200
	in := make(chan int)
	out := make(chan uint64)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range in {
				// Allocate garbage to create GC pressure.
				buf := make([]uint64, 512+j%64)
				var sum uint64
				for i := range buf {
					buf[i] = uint64(i*j) ^ 0x9e3779b9
					sum += buf[i]
				}
				out <- sum
			}
		}()
	}
	go func() {
		for j := 0; j < jobs; j++ {
			in <- j
		}
		close(in)
	}()
	go func() {
		wg.Wait()
		close(out)
	}()
	var total uint64
	n := 0
	for s := range out {
		total += s
		n++
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("results=%d total=%d gc=%v\n", n, total, ms.NumGC > 0)
	os.Exit(1)
}
