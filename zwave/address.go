package zwave

import (
	"fmt"
	"strconv"
	"strings"

	"sparekey"
)

// Scheme is the address scheme of Z-Wave locks: zwave://HUB/NODE.
const Scheme = "zwave"

// Address is the address of node on the hub named hub: zwave://hub/node.
func Address(hub string, node int) string {
	return fmt.Sprintf("%s://%s/%d", Scheme, hub, node)
}

// ParseAddress splits zwave://HUB/NODE into the hub's name and the node id.
func ParseAddress(device string) (hub string, node int, err error) {
	rest, ok := strings.CutPrefix(device, Scheme+"://")
	if ok {
		var id string
		hub, id, ok = strings.Cut(rest, "/")
		if ok && ValidHubName(hub) {
			n, err := strconv.Atoi(id)
			// Z-Wave node ids: 1-232, Long Range 256-4000.
			if err == nil && n >= 1 && n <= 4000 && strconv.Itoa(n) == id {
				return hub, n, nil
			}
		}
	}
	return "", 0, sparekey.Errorf(sparekey.EINVALID, "%q is not a Z-Wave lock address: want zwave://HUB/NODE, e.g. zwave://bldg-a/12", device)
}

// ValidHubName reports whether name can name a hub: letters, digits, "-",
// "_" and ".", as in a host name.
func ValidHubName(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
