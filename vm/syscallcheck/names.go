package syscallcheck

import (
	"fmt"
	"strings"
)

// Name returns a name for a Linux mips64 n64 syscall number from a table of the form of Go's
// syscall/zsysnum_linux_mips64.go ("SYS_READ = 5000"), or "" if it is not there.
func Name(table []byte, num uint64) string {
	want := fmt.Sprint(num)
	for _, line := range strings.Split(string(table), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[1] == "=" && f[2] == want && strings.HasPrefix(f[0], "SYS_") {
			return strings.ToLower(strings.TrimPrefix(f[0], "SYS_"))
		}
	}
	return ""
}
