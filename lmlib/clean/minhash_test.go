package clean

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

type minhashVectors struct {
	Docs []struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	} `json:"docs"`
	Clusters    [][]int      `json:"clusters"`
	Removed     []int        `json:"removed"`
	ParamsA     []uint64     `json:"params_a"`
	ParamsB     []uint64     `json:"params_b"`
	ParamsALast uint64       `json:"params_a_last"`
	ParamsBLast uint64       `json:"params_b_last"`
	Signatures  [][][]uint64 `json:"signatures"`
}

func TestMinHashMatchesDatatrove(t *testing.T) {
	var v minhashVectors
	readGzipJSON(t, "minhash.json.gz", &v)
	h, err := NewMinHasher(DefaultMinHashConfig())
	if err != nil {
		t.Fatal(err)
	}
	// numpy RandomState(1) parameters
	if !slices.Equal(h.a[:len(v.ParamsA)], v.ParamsA) || !slices.Equal(h.b[:len(v.ParamsB)], v.ParamsB) ||
		h.a[len(h.a)-1] != v.ParamsALast || h.b[len(h.b)-1] != v.ParamsBLast {
		t.Fatalf("permutation parameters differ from numpy's:\n a %v\nwant %v\n b %v\nwant %v", h.a[:3], v.ParamsA[:3], h.b[:3], v.ParamsB[:3])
	}
	// signatures of the first documents, bucket by bucket
	for i, want := range v.Signatures {
		sig := h.Signature(v.Docs[i].Text)
		for b, bucket := range want {
			if got := sig[b*8 : b*8+8]; !slices.Equal(got, bucket) {
				t.Fatalf("doc %d bucket %d: signature %v, datatrove %v", i, b, got, bucket)
			}
		}
	}
	// clusters
	for _, dir := range []string{"", t.TempDir()} {
		x, err := NewMinHashIndex(DefaultMinHashConfig(), dir)
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range v.Docs {
			if err := x.Add(fmt.Sprint(i), d.Text); err != nil {
				t.Fatal(err)
			}
		}
		clusters, err := x.Clusters()
		if err != nil {
			t.Fatal(err)
		}
		x.Close()
		got := make([]string, 0, len(clusters))
		for _, c := range clusters {
			got = append(got, strings.Join(c, ","))
		}
		want := make([]string, 0, len(v.Clusters))
		members := 0
		for _, c := range v.Clusters {
			s := make([]string, len(c))
			for i, d := range c {
				s[i] = fmt.Sprint(d)
			}
			members += len(c)
			want = append(want, strings.Join(s, ","))
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Fatalf("dir %q: %d clusters, datatrove %d\n got %v\nwant %v", dir, len(got), len(want), got, want)
		}
		t.Logf("dir %q: %d clusters (%d documents, %d removed) identical to datatrove's", dir, len(got), members, members-len(want))
		if len(v.Removed) != members-len(want) {
			t.Fatalf("datatrove removed %d documents, clusters imply %d", len(v.Removed), members-len(want))
		}
	}
}
