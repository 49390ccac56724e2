// Command probe is the workload of the real-node tests. It serves HTTP on :8080:
//
//	/        "ok <hostname>"
//	/check   resolves kubernetes.default.svc.<domain> through the pod's DNS and fetches
//	         /version from that address over TLS with the pod's service-account CA;
//	         200 with a JSON report when both work, 503 with the report otherwise.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

type report struct {
	Name      string   `json:"name"`
	Addresses []string `json:"addresses,omitempty"`
	Version   string   `json:"version,omitempty"`
	Error     string   `json:"error,omitempty"`
}

func check(ctx context.Context) report {
	domain := os.Getenv("CLUSTER_DOMAIN")
	if domain == "" {
		domain = "cluster.local"
	}
	r := report{Name: "kubernetes.default.svc." + domain}
	addrs, err := net.DefaultResolver.LookupHost(ctx, r.Name)
	if err != nil {
		r.Error = "resolve: " + err.Error()
		return r
	}
	r.Addresses = addrs
	pool := x509.NewCertPool()
	if ca, err := os.ReadFile(saDir + "/ca.crt"); err == nil {
		pool.AppendCertsFromPEM(ca)
	}
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: r.Name}},
	}
	resp, err := client.Get("https://" + net.JoinHostPort(addrs[0], "443") + "/version")
	if err != nil {
		r.Error = "api: " + err.Error()
		return r
	}
	defer resp.Body.Close()
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(body, &v) != nil {
		r.Error = fmt.Sprintf("api: HTTP %d: %s", resp.StatusCode, body)
		return r
	}
	r.Version = v.GitVersion
	return r
}

func main() {
	host, _ := os.Hostname()
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintf(w, "ok %s\n", host) })
	http.HandleFunc("/check", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 8*time.Second)
		defer cancel()
		r := check(ctx)
		w.Header().Set("Content-Type", "application/json")
		if r.Error != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(r)
	})
	if err := http.ListenAndServe(":8080", nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
