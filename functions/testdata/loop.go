// loop never returns.
package loop

func Handle(in struct{}) (int, error) {
	n := 0
	for {
		n++
	}
}
