// Benchmarks of client-go's util/workqueue, the reference for bench/queue-bench.ts: the same batches of
// the same keys, timed per operation. `go test -run '^$' -bench . -benchmem ./workqueue/` from bench/go;
// bench/run.ts runs it and reads the custom metrics (ns per add, get and done, bytes per queued key).
package workqueue

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"k8s.io/client-go/util/workqueue"
)

// batch keys are added, then taken and marked done: the queue's steady state in a controller that
// receives a burst of events, the same shape as the TypeScript side.
const batch = 1_000

// memoryKeys are queued at once to measure the bytes the queue holds per pending key.
const memoryKeys = 100_000

func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("default/pod-%06d", i)
	}
	return out
}

type queue interface {
	Add(string)
	Get() (string, bool)
	Done(string)
}

func cycle(b *testing.B, q queue, forget func(string)) {
	ks := keys(batch)
	var add, get, done time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		for _, k := range ks {
			q.Add(k)
		}
		t1 := time.Now()
		got := make([]string, 0, batch)
		for range ks {
			k, _ := q.Get()
			got = append(got, k)
		}
		t2 := time.Now()
		for _, k := range got {
			if forget != nil {
				forget(k)
			}
			q.Done(k)
		}
		t3 := time.Now()
		add += t1.Sub(t0)
		get += t2.Sub(t1)
		done += t3.Sub(t2)
		n += batch
	}
	b.ReportMetric(float64(add.Nanoseconds())/float64(n), "add-ns/key")
	b.ReportMetric(float64(get.Nanoseconds())/float64(n), "get-ns/key")
	b.ReportMetric(float64(done.Nanoseconds())/float64(n), "done-ns/key")
}

// BenchmarkQueue: the plain queue (dirty set, processing set, ordered list).
func BenchmarkQueue(b *testing.B) {
	q := workqueue.NewTyped[string]()
	defer q.ShutDown()
	cycle(b, q, nil)
}

// BenchmarkRateLimitingQueue: the queue the example controller uses, with Forget after each success.
func BenchmarkRateLimitingQueue(b *testing.B) {
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())
	defer q.ShutDown()
	cycle(b, q, q.Forget)
}

func heapAlloc() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkQueueMemory: heap bytes held per pending key (the keys themselves are allocated before).
func BenchmarkQueueMemory(b *testing.B) {
	ks := keys(memoryKeys)
	var perKey float64
	for b.Loop() {
		before := heapAlloc()
		q := workqueue.NewTyped[string]()
		for _, k := range ks {
			q.Add(k)
		}
		after := heapAlloc()
		perKey = float64(int64(after)-int64(before)) / memoryKeys
		runtime.KeepAlive(q)
		q.ShutDown()
	}
	runtime.KeepAlive(ks)
	b.ReportMetric(perKey, "B/key")
}
