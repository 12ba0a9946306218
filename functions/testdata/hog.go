// hog allocates without bound.
package hog

func Handle(in struct{}) (int, error) {
	var keep [][]byte
	for {
		b := make([]byte, 8<<20)
		for i := range b {
			b[i] = 1
		}
		keep = append(keep, b)
	}
	return len(keep), nil
}
