{{/*
Labels on every resource.
*/}}
{{- define "platform.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: syncreport
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: syncreport-platform
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The ServiceAccount helm/syncreport makes for an Application rendered with
its name as release name: syncreport.fullname of that chart, reproduced
here (test/ship checks the two agree). Call with the app entry.
*/}}
{{- define "platform.serviceAccount" -}}
{{- if .serviceAccount }}
{{- .serviceAccount }}
{{- else }}
{{- $full := ternary .name (printf "%s-syncreport" .name) (contains "syncreport" .name) }}
{{- include "platform.shortName" (dict "name" $full "max" 52) }}
{{- end }}
{{- end }}

{{/*
A name of at most max characters: the name when short enough, else its
first max-9 characters and 8 hex digits of its SHA-256 (as helm/syncreport
shortens its names). Call with (dict "name" … "max" 52).
*/}}
{{- define "platform.shortName" -}}
{{- if le (len .name) (int .max) }}
{{- .name | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" (trunc (sub (int .max) 9 | int) .name | trimSuffix "-") (sha256sum .name | trunc 8) }}
{{- end }}
{{- end }}

{{/*
The Role and RoleBinding of one app: syncreport-<app>, or for an app in
another namespace ("apps in any namespace") syncreport-<appNamespace>-<app>-
and 8 hex digits of the SHA-256 of "<appNamespace>/<app>": the dash alone
is ambiguous (team/web and team-web in the Argo CD namespace, a/b-c and
a-b/c), and a shared name would bind only one app's ServiceAccount.
Call with (dict "app" … "root" $).
*/}}
{{- define "platform.roleName" -}}
{{- $n := printf "syncreport-%s" .app.name }}
{{- if and .app.appNamespace (ne .app.appNamespace .root.Release.Namespace) }}
{{- $n = printf "syncreport-%s-%s-%s" .app.appNamespace .app.name (printf "%s/%s" .app.appNamespace .app.name | sha256sum | trunc 8) }}
{{- end }}
{{- include "platform.shortName" (dict "name" $n "max" 63) }}
{{- end }}
