package sink

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

// startFeed produces a first chunk of 400 generated records and then one of 300 every 250 ms,
// as a steady producer would, until the returned stop is called. stop waits for the producer
// and returns everything it produced; it may be called more than once (the test's cleanup
// calls it too).
func (e *testEnv) startFeed(t *testing.T) (stop func() dataset) {
	t.Helper()
	all := generate(e.topics, "a", 400)
	e.produce(t, all.recs)
	var (
		mu   sync.Mutex
		done = make(chan struct{})
		once sync.Once
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(250 * time.Millisecond):
			}
			d := generate(e.topics, "p"+strconv.Itoa(i), 300)
			e.produce(t, d.recs)
			mu.Lock()
			all.merge(d)
			mu.Unlock()
		}
	}()
	stop = func() dataset {
		once.Do(func() { close(done) })
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return all
	}
	t.Cleanup(func() { stop() })
	return stop
}
