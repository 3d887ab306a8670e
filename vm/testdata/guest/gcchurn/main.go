// Command gcchurn is a guest program for the vm tests: it allocates
// short-lived trees, lists, slices, strings and maps from several goroutines
// while keeping a small live set, so the garbage collector runs many cycles
// (and frees and reuses memory). It prints a checksum of what it built and
// whether the collector ran more than a few times, and exits with code 0.
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
	"strconv"
	"sync"
)

type node struct {
	left, right *node
	val         uint64
}

func build(depth int, v uint64) *node {
	if depth == 0 {
		return &node{val: v}
	}
	return &node{left: build(depth-1, v*2), right: build(depth-1, v*2+1), val: v}
}

func (n *node) sum() uint64 {
	if n == nil {
		return 0
	}
	return n.val + n.left.sum() + n.right.sum()
}

func main() {
	const workers = 3
	sums := make([]uint64, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keep := make([][]byte, 8) // the small live set
			for i := 0; i < 120; i++ {
				// Large short-lived buffers make the heap grow quickly.
				buf := make([]byte, 32<<10+i*64)
				buf[len(buf)-1] = byte(i)
				keep[i%len(keep)] = buf
				if i%4 == 0 {
					t := build(6, uint64(w*1000+i))
					sums[w] += t.sum()
					m := make(map[int]string, 16)
					for j := 0; j < 16; j++ {
						m[j] = strconv.Itoa(i * j)
					}
					sums[w] += uint64(len(m[i%16]))
				}
			}
			for _, b := range keep {
				sums[w] += uint64(b[len(b)-1])
			}
		}()
	}
	wg.Wait()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var total uint64
	for _, s := range sums {
		total += s
	}
	fmt.Printf("total=%d gc>=3:%v\n", total, ms.NumGC >= 3)
	os.Exit(0)
}
