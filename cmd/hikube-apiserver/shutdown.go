package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"
	genericapiserver "k8s.io/apiserver/pkg/server"
)

// ShutdownOptions are kube-apiserver's graceful-termination flags, with
// defaults for a server that has replicas behind a Service and clients
// (hikube-controller, the aggregator) that hold watches open all the time.
// k8s.io/apiserver's own defaults wait for open watches until the request
// timeout (60 s), so a SIGTERM took until the process supervisor's kill.
type ShutdownOptions struct {
	// DelayDuration keeps serving normally after SIGTERM, /readyz failing,
	// so that a load balancer stops sending before the listener closes.
	DelayDuration time.Duration
	// SendRetryAfter keeps the listener open until the requests in flight
	// are done, answering new ones 429 with Retry-After (client-go retries,
	// on another replica through the Service), then closes connections
	// within 2 s.
	SendRetryAfter bool
	// WatchTerminationGracePeriod is how long watches get to end once the
	// server stops accepting requests: each is closed at once, its client
	// watches again elsewhere.
	WatchTerminationGracePeriod time.Duration
}

// DefaultShutdownOptions end an idle server at once and an open watch
// within a second. A Deployment behind a Service should add a delay of a
// few seconds (the chart does) for its endpoints to be removed first.
func DefaultShutdownOptions() ShutdownOptions {
	return ShutdownOptions{DelayDuration: 0, SendRetryAfter: true, WatchTerminationGracePeriod: time.Second}
}

// AddFlags adds the flags, named as kube-apiserver's.
func (o *ShutdownOptions) AddFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.DelayDuration, "shutdown-delay-duration", o.DelayDuration,
		"Time to keep serving after SIGTERM, with /readyz failing, so that load balancers stop sending traffic before the listener closes.")
	fs.BoolVar(&o.SendRetryAfter, "shutdown-send-retry-after", o.SendRetryAfter,
		"Keep listening after the shutdown delay until the requests in flight are drained, answering new requests 429 with Retry-After; then close connections within 2s.")
	fs.DurationVar(&o.WatchTerminationGracePeriod, "shutdown-watch-termination-grace-period", o.WatchTerminationGracePeriod,
		"How long to wait for watches, closed at shutdown, to end. 0 leaves them open until the request timeout.")
}

// Validate checks the flags.
func (o *ShutdownOptions) Validate() []error {
	var errs []error
	if o.DelayDuration < 0 {
		errs = append(errs, fmt.Errorf("--shutdown-delay-duration must not be negative"))
	}
	if o.WatchTerminationGracePeriod < 0 {
		errs = append(errs, fmt.Errorf("--shutdown-watch-termination-grace-period must not be negative"))
	}
	return errs
}

// ApplyTo sets the server configuration.
func (o *ShutdownOptions) ApplyTo(c *genericapiserver.Config) {
	c.ShutdownDelayDuration = o.DelayDuration
	c.ShutdownSendRetryAfter = o.SendRetryAfter
	c.ShutdownWatchTerminationGracePeriod = o.WatchTerminationGracePeriod
}
