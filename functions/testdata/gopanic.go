// gopanic panics in a goroutine it starts, which no recover in the caller can catch.
package gopanic

import "time"

func Handle(in struct{}) (int, error) {
	go func() {
		panic("boom in a goroutine")
	}()
	time.Sleep(5 * time.Second)
	return 1, nil
}
