package logging

import (
	"path/filepath"
	"testing"
)

// BenchmarkDropped measures a debug call that the settings drop (the common
// case in production).
func BenchmarkDropped(b *testing.B) {
	l := New()
	b.Cleanup(func() { _ = l.Close() })
	log := l.For("rpc")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		log.Debug("dropped")
	}
}

// BenchmarkDroppedByFilter measures a debug call that logrus must build
// because a filter enables debug for another module.
func BenchmarkDroppedByFilter(b *testing.B) {
	l := New()
	b.Cleanup(func() { _ = l.Close() })
	if err := l.Apply(Settings{Level: 3, Filters: "1:vbox", Outputs: "1:stderr"}); err != nil {
		b.Fatal(err)
	}
	log := l.For("rpc")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		log.Debug("dropped")
	}
}

// BenchmarkFileParallel measures lines written to a file from all CPUs.
func BenchmarkFileParallel(b *testing.B) {
	l := New()
	b.Cleanup(func() { _ = l.Close() })
	path := filepath.Join(b.TempDir(), "bench.log")
	if err := l.Apply(Settings{Level: 2, Outputs: "2:file:" + path}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		log := l.For("rpc").WithField("serial", 42)
		for pb.Next() {
			log.Info("call dispatched")
		}
	})
}
