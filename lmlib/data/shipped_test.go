package data

import (
	"os"
	"strings"
	"testing"
)

func TestShipped(t *testing.T) {
	p, err := Shipped("opticks")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || !strings.Contains(string(b), "OPTICKS") {
		t.Fatalf("opticks at %s: %v", p, err)
	}
	if _, err := Shipped("bible"); err == nil || !strings.Contains(err.Error(), "opticks") {
		t.Fatalf("unknown name: %v", err)
	}
}
