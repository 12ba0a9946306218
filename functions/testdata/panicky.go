// panicky panics in the calling goroutine.
package panicky

func Handle(in struct{ N int }) (int, error) {
	var m map[string]int
	m["x"] = in.N
	return 0, nil
}
