{{/*
standin.get walks .path (a list of keys) down .root and returns {"v": value}
as JSON: null when the path is absent or not given, the root for [].
*/}}
{{- define "standin.get" -}}
{{- if kindIs "invalid" .path -}}
{"v":null}
{{- else -}}
{{- $cur := .root -}}
{{- range .path -}}
{{- if kindIs "map" $cur -}}{{- $cur = index $cur . -}}{{- else -}}{{- $cur = dict -}}{{- end -}}
{{- end -}}
{{- dict "v" $cur | toJson -}}
{{- end -}}
{{- end -}}

{{- define "standin.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* standin.placement renders nodeSelector and tolerations of a block. */}}
{{- define "standin.placement" -}}
{{- with .nodeSelector }}
nodeSelector:
{{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
{{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
