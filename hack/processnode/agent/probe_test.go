package agent

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestProbe(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			_, _ = w.Write([]byte("ok"))
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		default:
			http.Error(w, "no", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	host, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	c := &corev1.Container{Ports: []corev1.ContainerPort{{Name: "https", ContainerPort: int32(port)}}}
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	get := func(path string, p intstr.IntOrString) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: p, Scheme: corev1.URISchemeHTTPS}}}
	}
	tcp := func(p int) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt(p)}}}
	}
	for _, tc := range []struct {
		name  string
		probe *corev1.Probe
		ok    bool
	}{
		{"https by port name, self-signed", get("/readyz", intstr.FromString("https")), true},
		{"https by number", get("/readyz", intstr.FromInt(port)), true},
		{"redirect is success", get("/moved", intstr.FromInt(port)), true},
		{"503 fails", get("/livez", intstr.FromInt(port)), false},
		{"unknown port name fails", get("/readyz", intstr.FromString("nope")), false},
		{"tcp open", tcp(port), true},
		{"tcp closed", tcp(closedPort), false},
		{"exec counts as success", &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}, true},
	} {
		err := Probe(context.Background(), tc.probe, c, host)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestProberThresholds(t *testing.T) {
	p := newProber(&corev1.Probe{SuccessThreshold: 2, FailureThreshold: 3})
	fail := net.ErrClosed
	steps := []struct {
		err  error
		want int
	}{
		{nil, 0}, {nil, 1}, {nil, 1}, // two successes in a row reach the threshold
		{fail, 0}, {fail, 0}, {nil, 0}, // a success resets the failures
		{fail, 0}, {fail, 0}, {fail, -1}, {fail, -1},
	}
	for i, s := range steps {
		if got := p.record(s.err); got != s.want {
			t.Fatalf("step %d: got %d, want %d", i, got, s.want)
		}
	}
	// Defaults: one success, one failure is enough when thresholds are unset.
	d := newProber(&corev1.Probe{})
	if d.record(nil) != 1 || d.record(fail) != -1 {
		t.Fatal("unset thresholds must default to 1")
	}
}
