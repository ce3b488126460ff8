// Package catalog is the one table of what the platform offers: instance types,
// GPU models, Kubernetes versions, datacenters, storage classes and add-ons.
// Admission (pkg/admission/catalog checks clusters against it), the registry
// that serves it (instancetypes, gpumodels), the controller and the plugin all
// read it; nothing else hard-codes these facts. It also republishes, next to
// the offer, what the API itself fixes (apis/apps: the size limits of a
// cluster and the control-plane presets; apis/apps/v1alpha1: the defaults),
// which are written down there once.
package catalog
