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
	if watch != cell || watch2 != own || !CallsRunning(cell) || !CallsRunning(own) {
		t.Fatal("Call chose the wrong context or was not counted")
	}
	if WaitCalls(cell, 10*time.Millisecond) {
		t.Fatal("WaitCalls returned true with calls running")
	}
	cancel()
	go func() {
		<-watch.Done()
		end()
		end() // a second end is harmless
	}()
	if !WaitCalls(cell, 5*time.Second) {
		t.Fatal("WaitCalls did not see the call end")
	}
	// The call watching another context is neither waited for nor ended by the cell's.
	if CallsRunning(cell) || !CallsRunning(own) || WaitCalls(own, 10*time.Millisecond) {
		t.Fatal("calls of different contexts mixed up")
	}
	end2()
	if CallsRunning(own) {
		t.Fatal("call still counted after end")
	}
	restore()
	if Context() != context.Background() {
		t.Fatal("restore did not put the previous context back")
	}
}
