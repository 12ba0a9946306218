package display

import (
	"context"
	"testing"
	"time"
)

func TestContextAndCalls(t *testing.T) {
	if Context() != context.Background() {
		t.Fatal("outside a kernel Context must be Background")
	}
	cell, cancel := context.WithCancel(context.Background())
	restore := SetContext(cell)
	if Context() != cell {
		t.Fatal("SetContext did not install the cell's context")
	}
	// A call given no context watches the cell's; one given its own keeps it.
	watch, end := Call(nil)
	own := context.WithValue(context.Background(), struct{}{}, 1)
	watch2, end2 := Call(own)
	if watch != cell || watch2 != own || !CallsRunning() {
		t.Fatal("Call chose the wrong context or was not counted")
	}
	if WaitCalls(10 * time.Millisecond) {
		t.Fatal("WaitCalls returned true with calls running")
	}
	cancel()
	go func() {
		<-watch.Done()
		end()
		end() // a second end is harmless
		end2()
	}()
	if !WaitCalls(5 * time.Second) {
		t.Fatal("WaitCalls did not see the calls end")
	}
	if CallsRunning() {
		t.Fatal("calls still counted")
	}
	restore()
	if Context() != context.Background() {
		t.Fatal("restore did not put the previous context back")
	}
}
