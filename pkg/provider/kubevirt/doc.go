// Package kubevirt is the production provider: worker nodes are KubeVirt
// VirtualMachines in a host namespace of each tenant cluster, sized by the
// cluster instancetypes rendered here from pkg/catalog. It talks to the host
// through the kubevirt.io/api types in a scheme of its own (kubevirt.io's
// client-go is not used: it pulls in OpenShift's modules).
package kubevirt
