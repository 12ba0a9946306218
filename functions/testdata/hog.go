// hog allocates without bound (bytes.Repeat touches every page, so it is resident).
package hog

import "bytes"

func Handle(in struct{}) (int, error) {
	var keep [][]byte
	for {
		keep = append(keep, bytes.Repeat([]byte{1}, 8<<20))
	}
	return len(keep), nil
}
