// Test tooling only: CoreDNS with the plugins the Corefile kubeadm (and kubeboot) writes uses, plus log.
//
// CoreDNS selects its plugins at compile time (its plugin.cfg generates core/plugin's import list);
// this program is that selection for the real-node tests: the same coremain, registered with fewer
// plugins, so the build skips the cloud SDKs (Azure, Route 53, Cloud DNS) the tests never load.
// The server's own order of plugins (dnsserver.Directives) is CoreDNS's, unchanged.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

func main() {
	coremain.Run()
}
