{{/* The namespace is fixed: hikube's components find their Secrets, Lease and inventory in hikube-system. */}}
{{- define "hikube.namespace" -}}
{{- if ne .Release.Namespace "hikube-system" -}}
{{- fail (printf "install hikube into the namespace hikube-system (helm install --namespace hikube-system --create-namespace), not %q: its components look for their Secrets, Lease and GPU inventory there" .Release.Namespace) -}}
{{- end -}}
hikube-system
{{- end -}}

{{- define "hikube.labels" -}}
app.kubernetes.io/part-of: hikube
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* hikube.image <context> <name>: the image reference of one of hikube's binaries. */}}
{{- define "hikube.image" -}}
{{- $ctx := index . 0 -}}
{{- printf "%s/%s:%s" $ctx.Values.image.registry (index . 1) (default $ctx.Chart.AppVersion $ctx.Values.image.tag) -}}
{{- end -}}

{{/* hikube.spread <context> <name>: one replica per zone while zones last, then the least loaded. */}}
{{- define "hikube.spread" -}}
{{- $ctx := index . 0 -}}
topologySpreadConstraints:
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      app.kubernetes.io/name: {{ index . 1 }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: topology.kubernetes.io/zone
        labelSelector:
          matchLabels:
            app.kubernetes.io/name: {{ index . 1 }}
    - weight: 50
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            app.kubernetes.io/name: {{ index . 1 }}
{{- end -}}

{{- define "hikube.podSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{- define "hikube.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
{{- end -}}

{{/* hikube.etcdServers: the etcd client URLs hikube-apiserver uses. */}}
{{- define "hikube.etcdServers" -}}
{{- if eq .Values.etcd.mode "external" -}}
{{- if not .Values.etcd.external.endpoints -}}
{{- fail "etcd.mode=external needs etcd.external.endpoints" -}}
{{- end -}}
{{- join "," .Values.etcd.external.endpoints -}}
{{- else if eq .Values.etcd.mode "internal" -}}
{{- $urls := list -}}
{{- range $i := until (int .Values.etcd.internal.replicas) -}}
{{- $urls = append $urls (printf "https://hikube-etcd-%d.hikube-etcd.hikube-system.svc:2379" $i) -}}
{{- end -}}
{{- join "," $urls -}}
{{- else -}}
{{- fail (printf "etcd.mode must be internal or external, not %q" .Values.etcd.mode) -}}
{{- end -}}
{{- end -}}

{{/* hikube.etcdClientSecret: the Secret with ca.crt, tls.crt, tls.key hikube-apiserver presents to etcd. */}}
{{- define "hikube.etcdClientSecret" -}}
{{- if eq .Values.etcd.mode "external" -}}
{{- .Values.etcd.external.clientSecretName -}}
{{- else -}}
hikube-etcd-client
{{- end -}}
{{- end -}}

{{/* hikube.inventoryLine <zones> <count per zone>: "geneva=8,lucerne=0,gland=4". */}}
{{- define "hikube.inventoryLine" -}}
{{- $perZone := index . 1 -}}
{{- $fields := list -}}
{{- range $z := index . 0 -}}
{{- $fields = append $fields (printf "%s=%d" $z (int (index $perZone $z | default 0))) -}}
{{- end -}}
{{- join "," $fields -}}
{{- end -}}
