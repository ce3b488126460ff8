// Package catalog is the one table of what the platform offers: instance types,
// GPU models, Kubernetes versions, datacenters, control-plane presets, storage
// classes, add-ons and the size limits of a cluster. Validation, admission, the
// controller and the plugin all read it; nothing else hard-codes these facts.
package catalog
