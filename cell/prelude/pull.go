//go:build golemprelude

package prelude

// Range over functions, which yaegi v0.16.1 does not run: rangefunc.go in package
// cell rewrites such a loop into a pull loop over _golemPull or _golemPull2. They
// are iter.Pull and iter.Pull2 too.

// _golemPull turns a push iterator into next/stop functions; the iterator runs in
// its own goroutine and a panic in it is re-raised by next.
func _golemPull[V any](seq func(yield func(V) bool)) (func() (V, bool), func()) {
	type item struct {
		v     V
		panic any
		fail  bool
	}
	ch := make(chan item)
	done := make(chan struct{})
	go func() {
		defer close(ch)
		defer func() {
			if r := recover(); r != nil {
				select {
				case ch <- item{panic: r, fail: true}:
				case <-done:
				}
			}
		}()
		seq(func(v V) bool {
			select {
			case ch <- item{v: v}:
				return true
			case <-done:
				return false
			}
		})
	}()
	next := func() (V, bool) {
		it, ok := <-ch
		if it.fail {
			panic(it.panic)
		}
		return it.v, ok
	}
	stop := func() {
		select {
		case <-done:
		default:
			close(done)
		}
	}
	return next, stop
}

// _golemPull2 is _golemPull for iterators over pairs: the pairs go through
// _golemPull as one value each.
func _golemPull2[K, V any](seq func(yield func(K, V) bool)) (func() (K, V, bool), func()) {
	type pair struct {
		k K
		v V
	}
	next, stop := _golemPull(func(yield func(pair) bool) {
		seq(func(k K, v V) bool { return yield(pair{k, v}) })
	})
	return func() (K, V, bool) {
		p, ok := next()
		return p.k, p.v, ok
	}, stop
}

func _golem_iter_Pull[V any](seq func(yield func(V) bool)) (func() (V, bool), func()) {
	return _golemPull(seq)
}

func _golem_iter_Pull2[K, V any](seq func(yield func(K, V) bool)) (func() (K, V, bool), func()) {
	return _golemPull2(seq)
}
