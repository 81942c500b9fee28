{{/* Name of the chart's objects: the release name, unless it already says microshop-operator. */}}
{{- define "microshop-operator.fullname" -}}
{{- if contains "microshop-operator" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-microshop-operator" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "microshop-operator.selectorLabels" -}}
app.kubernetes.io/name: microshop-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "microshop-operator.labels" -}}
{{ include "microshop-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: microshop
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "microshop-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "microshop-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Leader election is on when asked for, and always with more than one replica. */}}
{{- define "microshop-operator.leaderElection" -}}
{{- or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) -}}
{{- end -}}
