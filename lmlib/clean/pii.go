package clean

import (
	"net/netip"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/golem-lm/golem/lmlib/data"
)

// PIIFormatter replaces e-mail addresses and public IP addresses, as datatrove's
// PIIFormatter does: the same patterns, the same replacement lists used in turn, and
// only globally routable IPv4 addresses replaced (private, loopback, link-local,
// shared, reserved and documentation ranges are kept; net/netip decides, following
// Python's ipaddress.is_global). IPv6 addresses are replaced too when public
// (datatrove leaves IPv6 alone).
//
// "In turn" is datatrove's: one position in each list, advanced by every
// replacement the formatter makes, whichever document it is in. That makes a
// document's text depend on the documents formatted before it, so on the order
// parallel workers reach them and on how a run is split into tasks. PerDocument
// restarts the lists at each document instead: the text then depends on the
// document alone (FineWebSteps sets it, so pipeline outputs are reproducible).
type PIIFormatter struct {
	RemoveEmails     bool
	RemoveIPs        bool
	OnlyPublicIPs    bool
	EmailReplacement []string
	IPReplacement    []string
	PerDocument      bool // use the replacement lists in turn within each document

	emailN, ipN atomic.Uint64
}

// NewPIIFormatter returns the formatter with datatrove's defaults.
func NewPIIFormatter() *PIIFormatter {
	return &PIIFormatter{
		RemoveEmails: true, RemoveIPs: true, OnlyPublicIPs: true,
		EmailReplacement: []string{"email@example.com", "firstname.lastname@example.org"},
		IPReplacement: []string{"22.214.171.124", "126.96.36.199", "188.8.131.52", "184.108.40.206",
			"220.127.116.11", "18.104.22.168"},
	}
}

var (
	emailRE = regexp.MustCompile(`\b[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_` + "`" +
		`{|}~-]+)*@(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|\[(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?|[A-Za-z0-9-]*[A-Za-z0-9]:)\])`)
	ipv4RE = regexp.MustCompile(`(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)`)
	ipv6RE = regexp.MustCompile(`(?i)(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?`)
)

// Name implements data.Step.
func (p *PIIFormatter) Name() string { return "pii" }

// Process implements data.Step.
func (p *PIIFormatter) Process(d *data.Doc) (string, error) {
	d.Text = p.Format(d.Text)
	return "", nil
}

// Format returns text with its e-mail and public IP addresses replaced.
//
// No address spans whitespace, so the patterns only run on the whitespace-separated
// chunks that can hold one (an "@"; a digit followed by a dot; a colon between hex
// digits): the same matches, in the same order, as over the whole text.
func (p *PIIFormatter) Format(text string) string {
	emailN, ipN := &p.emailN, &p.ipN
	if p.PerDocument {
		emailN, ipN = new(atomic.Uint64), new(atomic.Uint64)
	}
	if p.RemoveEmails && len(p.EmailReplacement) > 0 && strings.IndexByte(text, '@') >= 0 {
		text = replaceInChunks(text, hasEmailHint, func(chunk string) string {
			return emailRE.ReplaceAllStringFunc(chunk, func(string) string {
				return p.EmailReplacement[(emailN.Add(1)-1)%uint64(len(p.EmailReplacement))]
			})
		})
	}
	if p.RemoveIPs && len(p.IPReplacement) > 0 {
		repl := func(m string) string {
			addr, err := netip.ParseAddr(m)
			if err != nil || (p.OnlyPublicIPs && !isGlobalIP(addr)) {
				return m
			}
			return p.IPReplacement[(ipN.Add(1)-1)%uint64(len(p.IPReplacement))]
		}
		text = replaceInChunks(text, hasIPv4Hint, func(chunk string) string { return ipv4RE.ReplaceAllStringFunc(chunk, repl) })
		text = replaceInChunks(text, hasIPv6Hint, func(chunk string) string { return ipv6RE.ReplaceAllStringFunc(chunk, repl) })
	}
	return text
}

func hasEmailHint(s string) bool { return strings.IndexByte(s, '@') >= 0 }

func hasIPv4Hint(s string) bool {
	for i := 1; i+1 < len(s); i++ {
		if s[i] == '.' && s[i-1] >= '0' && s[i-1] <= '9' && s[i+1] >= '0' && s[i+1] <= '9' {
			return true
		}
	}
	return false
}

func isHexByte(c byte) bool {
	return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

func hasIPv6Hint(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == ':' && (s[i+1] == ':' || (i > 0 && isHexByte(s[i-1]) && isHexByte(s[i+1]))) {
			return true
		}
	}
	return false
}

// replaceInChunks applies fn to each whitespace-separated chunk for which hint is
// true, keeping everything else byte for byte.
func replaceInChunks(text string, hint func(string) bool, fn func(string) string) string {
	var b strings.Builder
	last := 0 // text[:last] is already in b (or unchanged when b is empty)
	changed := false
	for i := 0; i < len(text); {
		for i < len(text) && asciiSpace(text[i]) {
			i++
		}
		j := i
		for j < len(text) && !asciiSpace(text[j]) {
			j++
		}
		if j > i && hint(text[i:j]) {
			if out := fn(text[i:j]); out != text[i:j] {
				if !changed {
					b.Grow(len(text))
					changed = true
				}
				b.WriteString(text[last:i])
				b.WriteString(out)
				last = j
			}
		}
		i = j
	}
	if !changed {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

func asciiSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'
}

var nonGlobal4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.0.0/24"), netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("255.255.255.255/32"),
}

var nonGlobal6 = []netip.Prefix{
	netip.MustParsePrefix("::/128"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("::ffff:0:0/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"), netip.MustParsePrefix("100::/64"), netip.MustParsePrefix("2001::/23"),
	netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("2002::/16"), netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
}

// isGlobalIP follows Python's ipaddress is_global (IANA special-purpose registries).
func isGlobalIP(a netip.Addr) bool {
	table := nonGlobal4
	if a.Is6() && !a.Is4In6() {
		table = nonGlobal6
	}
	a = a.Unmap()
	for _, p := range table {
		if p.Contains(a) {
			// 192.0.0.9 and 192.0.0.10 are global exceptions in 192.0.0.0/24
			if a.Is4() && p.Bits() == 24 && p.Addr() == netip.MustParseAddr("192.0.0.0") {
				if s := a.String(); s == "192.0.0.9" || s == "192.0.0.10" {
					return true
				}
			}
			return false
		}
	}
	return true
}
