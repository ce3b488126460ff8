package integration

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// TestMalformedRequestsGetAClientError sends what a broken or hostile client
// might to hikube-apiserver through the host's aggregation layer: every
// answer is a 4xx with a message, never a 5xx, and nothing is stored.
func TestMalformedRequestsGetAClientError(t *testing.T) {
	cfg := env.RESTConfig(t, "admin")
	transport, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: transport}
	base := strings.TrimSuffix(cfg.Host, "/") + "/apis/apps.hikube.io/v1alpha1/namespaces/tenant-a/clusters"

	cluster := func(name, extra string) string {
		return `{"apiVersion":"apps.hikube.io/v1alpha1","kind":"Cluster","metadata":{"name":"` + name + `"},` +
			`"spec":{"nodeGroups":{"web":{"minReplicas":1,"maxReplicas":2,"instanceType":"s1.large"}}` + extra + `}}`
	}
	nested := func(depth int) string {
		return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
	}
	big := func(n int) string {
		return `,"addons":{"certManager":{"enabled":true,"valuesOverride":{"blob":"` + strings.Repeat("x", n) + `"}}}`
	}

	for _, tc := range []struct {
		name, method, url, contentType, body string
		want                                 int
	}{
		{"invalid JSON", http.MethodPost, base, "application/json", `{"apiVersion":`, http.StatusBadRequest},
		{"not an object", http.MethodPost, base, "application/json", `[1,2,3]`, http.StatusBadRequest},
		{"wrong kind", http.MethodPost, base, "application/json",
			`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bad-kind"}}`, http.StatusBadRequest},
		{"wrong group version", http.MethodPost, base, "application/json",
			`{"apiVersion":"apps.hikube.io/v9","kind":"Cluster","metadata":{"name":"bad-version"}}`, http.StatusBadRequest},
		{"a string where a number goes", http.MethodPost, base, "application/json",
			`{"apiVersion":"apps.hikube.io/v1alpha1","kind":"Cluster","metadata":{"name":"bad-number"},"spec":{"nodeGroups":{"web":{"minReplicas":"one"}}}}`,
			http.StatusBadRequest},
		{"unknown field, strict", http.MethodPost, base + "?fieldValidation=Strict", "application/json",
			cluster("bad-field", `,"flavour":"vanilla"`), http.StatusBadRequest},
		{"unsupported media type", http.MethodPost, base, "text/plain", "hello", http.StatusUnsupportedMediaType},
		{"deep nesting in valuesOverride", http.MethodPost, base, "application/json",
			cluster("deep", `,"addons":{"certManager":{"enabled":true,"valuesOverride":`+nested(20000)+`}}`), http.StatusBadRequest},
		{"a body beyond the request size limit", http.MethodPost, base, "application/json",
			cluster("huge", big(4<<20)), http.StatusRequestEntityTooLarge},
		{"valuesOverride beyond its limit", http.MethodPost, base, "application/json",
			cluster("large", big(2<<20)), http.StatusUnprocessableEntity},
		{"a patch that is not JSON", http.MethodPatch, base + "/web-missing", "application/merge-patch+json", "{{{", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, bytes.NewBufferString(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tc.contentType)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("request failed: %v", err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			switch {
			case resp.StatusCode >= 500:
				t.Fatalf("%d (server error): %s", resp.StatusCode, body)
			case resp.StatusCode < 400:
				t.Fatalf("%d: accepted: %s", resp.StatusCode, body)
			case tc.want != 0 && resp.StatusCode != tc.want:
				t.Errorf("%d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if len(bytes.TrimSpace(body)) == 0 {
				t.Errorf("%d without a message", resp.StatusCode)
			}
		})
	}

	// Nothing of the above was stored.
	out := mustKubectl(t, "admin", "get", "clusters", "-n", "tenant-a", "-o", "name")
	for _, name := range []string{"bad-kind", "bad-version", "bad-number", "bad-field", "deep", "huge", "large"} {
		if strings.Contains(out, fmt.Sprintf("cluster.apps.hikube.io/%s\n", name)) {
			t.Errorf("%s was stored:\n%s", name, out)
		}
	}
}
