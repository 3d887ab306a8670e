// Command timers is a guest program for the vm tests: it sleeps, waits on
// time.After, stops and resets timers, counts ticker ticks, runs
// time.AfterFunc callbacks and context deadlines. The VM's clock advances
// with the step counter, so every wait costs steps, not host time. It prints
// the order in which the events fired (which the deadlines alone decide)
// and exits with code 0.
//
// The go:debug directive stops the Go 1.25+ runtime from naming its memory
// mappings with prctl(PR_SET_VMA), a syscall Cannon does not implement (the
// VM would stop with an unrecognized syscall).
//
//go:debug decoratemappings=0
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

func main() {
	start := time.Now()
	var events []string
	var mu sync.Mutex
	record := func(e string) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}

	// Sleep: the monotonic clock must move forward by at least the duration.
	t0 := time.Now()
	time.Sleep(2 * time.Millisecond)
	slept := time.Since(t0) >= 2*time.Millisecond
	record(fmt.Sprintf("slept:%v", slept))

	// Goroutines sleeping for different durations finish in deadline order.
	var wg sync.WaitGroup
	for _, d := range []int{9, 3, 6} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(d) * time.Millisecond)
			record(fmt.Sprintf("sleep%d", d))
		}()
	}
	wg.Wait()

	// time.After against a slower timer in a select.
	slow := time.NewTimer(20 * time.Millisecond)
	select {
	case <-time.After(2 * time.Millisecond):
		record("after")
	case <-slow.C:
		record("slow-first")
	}
	// A stopped timer never fires; a reset one fires once.
	record(fmt.Sprintf("stopped:%v", slow.Stop()))
	slow.Reset(time.Millisecond)
	<-slow.C
	record("reset")

	// A ticker ticks until it is stopped.
	ticker := time.NewTicker(time.Millisecond)
	ticks := 0
	for range ticker.C {
		ticks++
		if ticks == 5 {
			ticker.Stop()
			break
		}
	}
	record(fmt.Sprintf("ticks:%d", ticks))

	// AfterFunc callbacks run in deadline order.
	var fwg sync.WaitGroup
	for _, d := range []int{4, 1} {
		fwg.Add(1)
		time.AfterFunc(time.Duration(d)*time.Millisecond, func() {
			record(fmt.Sprintf("func%d", d))
			fwg.Done()
		})
	}
	fwg.Wait()

	// A context deadline cancels a wait that would take longer.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Millisecond)
	select {
	case <-ctx.Done():
		record("ctx:" + ctx.Err().Error())
	case <-time.After(50 * time.Millisecond):
		record("ctx:late")
	}
	cancel()

	elapsed := time.Since(start) >= 25*time.Millisecond
	fmt.Printf("events=%s elapsed>=25ms:%v\n", strings.Join(events, ","), elapsed)
	os.Exit(0)
}
