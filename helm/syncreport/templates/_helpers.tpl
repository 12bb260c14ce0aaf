{{/*
The chart name, or nameOverride.
*/}}
{{- define "syncreport.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 52 | trimSuffix "-" }}
{{- end }}

{{/*
The full name that prefixes every resource: <release>-<chart>, or the release
name when it already contains the chart name. 52 characters at most, the
limit of a CronJob name; Job names add at most 9 ("-postsync").

Argo CD renders a Helm source with the Application's name as release name,
so the names are unique per Application even when several deploy into one
namespace (and a hook Job's BeforeHookCreation only ever replaces its own
app's Job). A longer name is not merely cut, which could make two apps
with a long common prefix share one: it is cut to 43 characters and ends
in 8 hex digits of the SHA-256 of the whole name (syncreport.shortName;
helm/syncreport-platform names the ServiceAccount the same way).
*/}}
{{- define "syncreport.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- include "syncreport.shortName" .Values.fullnameOverride }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- include "syncreport.shortName" .Release.Name }}
{{- else }}
{{- include "syncreport.shortName" (printf "%s-%s" .Release.Name $name) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A name of at most 52 characters: the name itself when short enough, else
its first 43 characters and 8 hex digits of its SHA-256.
*/}}
{{- define "syncreport.shortName" -}}
{{- if le (len .) 52 }}
{{- . | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" (trunc 43 . | trimSuffix "-") (sha256sum . | trunc 8) }}
{{- end }}
{{- end }}

{{/*
Chart name and version for the helm.sh/chart label.
*/}}
{{- define "syncreport.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every resource.
*/}}
{{- define "syncreport.labels" -}}
helm.sh/chart: {{ include "syncreport.chart" . }}
{{ include "syncreport.selectorLabels" . }}
app.kubernetes.io/version: {{ include "syncreport.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Labels that identify this release's resources.
*/}}
{{- define "syncreport.selectorLabels" -}}
app.kubernetes.io/name: {{ include "syncreport.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount the hooks run as.
*/}}
{{- define "syncreport.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "syncreport.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The Application the hooks report on.
*/}}
{{- define "syncreport.appName" -}}
{{- default .Release.Name .Values.argocd.appName }}
{{- end }}

{{/*
The namespace of the Application object: where the Role that reads it goes.
*/}}
{{- define "syncreport.appNamespace" -}}
{{- default .Values.argocd.namespace .Values.argocd.appNamespace }}
{{- end }}

{{/*
The name of the Role and RoleBinding in the Application's namespace. Several
releases (one per app) share that namespace, so the release namespace is part
of the name.
*/}}
{{- define "syncreport.argocdRoleName" -}}
{{- printf "%s-%s" (include "syncreport.fullname" .) .Release.Namespace | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The image tag: image.tag or the chart's appVersion.
*/}}
{{- define "syncreport.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/*
The image reference, pinned by digest when image.digest is set.
*/}}
{{- define "syncreport.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository (include "syncreport.imageTag" .) }}
{{- with .Values.image.digest }}
{{- $ref = printf "%s@%s" $ref . }}
{{- end }}
{{- $ref }}
{{- end }}

{{/*
The Secret with the Slack credentials, or nothing when there is none.
*/}}
{{- define "syncreport.slackSecretName" -}}
{{- if .Values.slack.existingSecret }}
{{- .Values.slack.existingSecret }}
{{- else if or .Values.slack.token .Values.slack.webhookURL }}
{{- printf "%s-slack" (include "syncreport.fullname" .) }}
{{- end }}
{{- end }}

{{/*
Environment variables the chart sets itself; `env` may not repeat them.
*/}}
{{- define "syncreport.managedEnv" -}}
POD_NAME POD_NAMESPACE ARGOCD_NAMESPACE ARGOCD_APP_NAME ARGOCD_APP_NAMESPACE ARGOCD_URL ARGOCD_KUBECONFIG_FILE ARGOCD_SERVER ARGOCD_AUTH_TOKEN ARGOCD_AUTH_TOKEN_FILE ARGOCD_CA_FILE ARGOCD_INSECURE ARGOCD_PLAINTEXT NOTIFY_COMMIT_AUTHOR NOTIFIER SLACK_CHANNEL SLACK_API_URL SLACK_TOKEN SLACK_TOKEN_FILE SLACK_WEBHOOK_URL SLACK_WEBHOOK_URL_FILE STDOUT_FORMAT RETRY_NOTIFY HOOK_TIMEOUT FAIL_ON_DELIVERY_ERROR LOG_LEVEL HOOK_LOG_LINES GOMEMLIMIT GATE_TIMEOUT GATE_RESTARTS GATE_IMAGE_PULL_GRACE GATE_CONFIG_ERROR_GRACE GATE_UNSCHEDULABLE_GRACE GATE_MARK_DEGRADED SLACK_POST_STARTED COMMIT_STATUS_GITHUB_TOKEN COMMIT_STATUS_GITHUB_TOKEN_FILE COMMIT_STATUS_GITHUB_HOSTS COMMIT_STATUS_GITHUB_DEPLOYMENTS COMMIT_STATUS_GITLAB_TOKEN COMMIT_STATUS_GITLAB_TOKEN_FILE COMMIT_STATUS_GITLAB_HOSTS SMTP_HOST SMTP_PORT SMTP_TLS SMTP_ALLOW_PLAINTEXT SMTP_FROM SMTP_USERNAME SMTP_PASSWORD SMTP_PASSWORD_FILE SMTP_CA_FILE EMAIL_TO EMAIL_RECIPIENTS WEBHOOK_URL WEBHOOK_URL_FILE WEBHOOK_SECRET WEBHOOK_SECRET_FILE WEBHOOK_HEADERS_FILE
{{- end }}

{{/*
The seconds in a duration of whole hours, minutes and seconds ("1h30m"),
the form values.schema.json allows for hooks.gate.timeout.
*/}}
{{- define "syncreport.seconds" -}}
{{- $total := 0 }}
{{- range regexFindAll "[0-9]+[hms]" . -1 }}
{{- $n := trimSuffix "h" (trimSuffix "m" (trimSuffix "s" .)) | atoi }}
{{- if hasSuffix "h" . }}
{{- $total = add $total (mul $n 3600) }}
{{- else if hasSuffix "m" . }}
{{- $total = add $total (mul $n 60) }}
{{- else }}
{{- $total = add $total $n }}
{{- end }}
{{- end }}
{{- $total }}
{{- end }}

{{/*
The seconds in a Go duration ("90s", "1m30s", "1.5m", "500ms"), rounded up:
the form values.schema.json allows for config.timeout (HOOK_TIMEOUT).
*/}}
{{- define "syncreport.durationSeconds" -}}
{{- $total := 0.0 }}
{{- range regexFindAll "[0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h)" . -1 }}
{{- $n := regexFind "^[0-9.]+" . | float64 }}
{{- $unit := trimPrefix (regexFind "^[0-9.]+" .) . }}
{{- $factor := get (dict "ns" 0.000000001 "us" 0.000001 "µs" 0.000001 "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0) $unit }}
{{- $total = addf $total (mulf $n $factor) }}
{{- end }}
{{- ceil $total | int }}
{{- end }}

{{/*
The gate Job's activeDeadlineSeconds: the longest a gate run takes (locating
and the first read, HOOK_TIMEOUT each, then GATE_TIMEOUT, then marking and
writing the cause: gate.JobDeadline, which test/ship checks this against),
and at least job.activeDeadlineSeconds.
*/}}
{{- define "syncreport.gateDeadline" -}}
{{- $hook := include "syncreport.durationSeconds" .Values.config.timeout | int }}
{{- $gate := include "syncreport.seconds" .Values.hooks.gate.timeout | int }}
{{- max (add (mul 2 $hook) $gate 60) (int .Values.job.activeDeadlineSeconds) }}
{{- end }}

{{/*
The Secret keys mounted as files into the hook container, as a JSON list of
{name, dir, secret, key, env}: the file is dir/key and env names the variable
that gets its path. One per credential, so each volume holds one file.
*/}}
{{- define "syncreport.fileMounts" -}}
{{- $v := .Values }}
{{- $mounts := list }}
{{- $secret := include "syncreport.slackSecretName" . }}
{{- if and $secret $v.slack.mountAsFile }}
{{- $slack := dict "name" "slack-credentials" "dir" "/var/run/secrets/syncreport/slack" "secret" $secret "key" $v.slack.tokenKey "env" "SLACK_TOKEN_FILE" }}
{{- if eq $v.config.notifier "webhook" }}
{{- $_ := set $slack "key" $v.slack.webhookURLKey }}
{{- $_ := set $slack "env" "SLACK_WEBHOOK_URL_FILE" }}
{{- end }}
{{- $mounts = append $mounts $slack }}
{{- end }}
{{- $r := $v.argocd.remote }}
{{- if eq $r.mode "kubeconfig" }}
{{- $mounts = append $mounts (dict "name" "argocd-kubeconfig" "dir" "/var/run/secrets/syncreport/argocd-kubeconfig" "secret" $r.kubeconfigSecret.name "key" $r.kubeconfigSecret.key "env" "ARGOCD_KUBECONFIG_FILE") }}
{{- else if eq $r.mode "api" }}
{{- $mounts = append $mounts (dict "name" "argocd-token" "dir" "/var/run/secrets/syncreport/argocd-token" "secret" $r.tokenSecret.name "key" $r.tokenSecret.key "env" "ARGOCD_AUTH_TOKEN_FILE") }}
{{- with $r.caSecret.name }}
{{- $mounts = append $mounts (dict "name" "argocd-ca" "dir" "/var/run/secrets/syncreport/argocd-ca" "secret" . "key" $r.caSecret.key "env" "ARGOCD_CA_FILE") }}
{{- end }}
{{- end }}
{{- $e := $v.email }}
{{- if and $e.host $e.passwordSecret.name }}
{{- $mounts = append $mounts (dict "name" "smtp-password" "dir" "/var/run/secrets/syncreport/smtp-password" "secret" $e.passwordSecret.name "key" $e.passwordSecret.key "env" "SMTP_PASSWORD_FILE") }}
{{- end }}
{{- if and $e.host $e.caSecret.name }}
{{- $mounts = append $mounts (dict "name" "smtp-ca" "dir" "/var/run/secrets/syncreport/smtp-ca" "secret" $e.caSecret.name "key" $e.caSecret.key "env" "SMTP_CA_FILE") }}
{{- end }}
{{- with $v.webhook.existingSecret }}
{{- $mounts = append $mounts (dict "name" "webhook-url" "dir" "/var/run/secrets/syncreport/webhook-url" "secret" . "key" $v.webhook.urlKey "env" "WEBHOOK_URL_FILE") }}
{{- $mounts = append $mounts (dict "name" "webhook-secret" "dir" "/var/run/secrets/syncreport/webhook-secret" "secret" . "key" $v.webhook.secretKey "env" "WEBHOOK_SECRET_FILE") }}
{{- if $v.webhook.headersKey }}
{{- $mounts = append $mounts (dict "name" "webhook-headers" "dir" "/var/run/secrets/syncreport/webhook-headers" "secret" . "key" $v.webhook.headersKey "env" "WEBHOOK_HEADERS_FILE") }}
{{- end }}
{{- end }}
{{- $c := $v.commitStatus }}
{{- if and $c.existingSecret $c.githubTokenKey }}
{{- $mounts = append $mounts (dict "name" "github-token" "dir" "/var/run/secrets/syncreport/github-token" "secret" $c.existingSecret "key" $c.githubTokenKey "env" "COMMIT_STATUS_GITHUB_TOKEN_FILE") }}
{{- end }}
{{- if and $c.existingSecret $c.gitlabTokenKey }}
{{- $mounts = append $mounts (dict "name" "gitlab-token" "dir" "/var/run/secrets/syncreport/gitlab-token" "secret" $c.existingSecret "key" $c.gitlabTokenKey "env" "COMMIT_STATUS_GITLAB_TOKEN_FILE") }}
{{- end }}
{{- toJson $mounts }}
{{- end }}

{{/*
The Pod spec shared by every hook Job and the CronJob.
Call with (dict "root" $ "args" (list "report")), and "env", a list of
{name, value}, for variables of one hook only.
*/}}
{{- define "syncreport.podSpec" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $secret := include "syncreport.slackSecretName" $root }}
{{- $managed := splitList " " (include "syncreport.managedEnv" $root) }}
{{- $mounts := include "syncreport.fileMounts" $root | fromJsonArray }}
{{- $remote := $v.argocd.remote -}}
serviceAccountName: {{ include "syncreport.serviceAccountName" $root }}
automountServiceAccountToken: true
restartPolicy: Never
enableServiceLinks: false
{{- with $v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $v.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: hook
    image: {{ include "syncreport.image" $root | quote }}
    imagePullPolicy: {{ $v.image.pullPolicy }}
    args: {{ toJson .args }}
    env:
      - name: POD_NAME
        valueFrom:
          fieldRef:
            fieldPath: metadata.name
      - name: POD_NAMESPACE
        valueFrom:
          fieldRef:
            fieldPath: metadata.namespace
      - name: ARGOCD_NAMESPACE
        value: {{ $v.argocd.namespace | quote }}
      {{- if not $v.argocd.discoverApp }}
      - name: ARGOCD_APP_NAME
        value: {{ include "syncreport.appName" $root | quote }}
      {{- end }}
      {{- with $v.argocd.appNamespace }}
      - name: ARGOCD_APP_NAMESPACE
        value: {{ . | quote }}
      {{- end }}
      {{- with $v.argocd.url }}
      - name: ARGOCD_URL
        value: {{ . | quote }}
      {{- end }}
      {{- if eq $remote.mode "api" }}
      - name: ARGOCD_SERVER
        value: {{ $remote.server | quote }}
      {{- if $remote.insecure }}
      - name: ARGOCD_INSECURE
        value: "true"
      {{- end }}
      {{- if $remote.plaintext }}
      - name: ARGOCD_PLAINTEXT
        value: "true"
      {{- end }}
      {{- if $remote.notifyCommitAuthor }}
      - name: NOTIFY_COMMIT_AUTHOR
        value: "true"
      {{- end }}
      {{- end }}
      {{- range $mounts }}
      {{- if hasPrefix "ARGOCD_" .env }}
      - name: {{ .env }}
        value: {{ printf "%s/%s" .dir .key | quote }}
      {{- end }}
      {{- end }}
      {{- $fleet := $v.fleet.enabled }}
      {{- if or (not $fleet) (ne $v.config.notifier "auto") }}
      - name: NOTIFIER
        value: {{ $v.config.notifier | quote }}
      {{- end }}
      {{- with $v.slack.channel }}
      - name: SLACK_CHANNEL
        value: {{ . | quote }}
      {{- end }}
      {{- with $v.slack.apiURL }}
      - name: SLACK_API_URL
        value: {{ . | quote }}
      {{- end }}
      {{- range $mounts }}
      {{- if hasPrefix "SLACK_" .env }}
      - name: {{ .env }}
        value: {{ printf "%s/%s" .dir .key | quote }}
      {{- end }}
      {{- end }}
      {{- /* config.notifier slack or webhook takes only its own key, so a
      Secret that holds both (a central one copied, say) is not "both set". */}}
      {{- if and $secret (not $v.slack.mountAsFile) (or $v.slack.existingSecret $v.slack.token) (ne $v.config.notifier "webhook") }}
      - name: SLACK_TOKEN
        valueFrom:
          secretKeyRef:
            name: {{ $secret }}
            key: {{ $v.slack.tokenKey }}
            optional: true
      {{- end }}
      {{- if and $secret (not $v.slack.mountAsFile) (or $v.slack.existingSecret $v.slack.webhookURL) (ne $v.config.notifier "slack") }}
      - name: SLACK_WEBHOOK_URL
        valueFrom:
          secretKeyRef:
            name: {{ $secret }}
            key: {{ $v.slack.webhookURLKey }}
            optional: true
      {{- end }}
      {{- with $v.email.host }}
      - name: SMTP_HOST
        value: {{ . | quote }}
      {{- if $v.email.port }}
      - name: SMTP_PORT
        value: {{ $v.email.port | quote }}
      {{- end }}
      - name: SMTP_TLS
        value: {{ $v.email.tls | quote }}
      {{- if $v.email.allowPlaintext }}
      - name: SMTP_ALLOW_PLAINTEXT
        value: "true"
      {{- end }}
      - name: SMTP_FROM
        value: {{ $v.email.from | quote }}
      {{- with $v.email.to }}
      - name: EMAIL_TO
        value: {{ join "," . | quote }}
      {{- end }}
      - name: EMAIL_RECIPIENTS
        value: {{ $v.email.recipients | quote }}
      {{- with $v.email.username }}
      - name: SMTP_USERNAME
        value: {{ . | quote }}
      {{- end }}
      {{- end }}
      {{- with $v.commitStatus.githubHosts }}
      - name: COMMIT_STATUS_GITHUB_HOSTS
        value: {{ join "," . | quote }}
      {{- end }}
      {{- with $v.commitStatus.gitlabHosts }}
      - name: COMMIT_STATUS_GITLAB_HOSTS
        value: {{ join "," . | quote }}
      {{- end }}
      {{- if $v.commitStatus.githubDeployments }}
      - name: COMMIT_STATUS_GITHUB_DEPLOYMENTS
        value: "true"
      {{- end }}
      {{- range $mounts }}
      {{- if or (hasPrefix "SMTP_" .env) (hasPrefix "WEBHOOK_" .env) (hasPrefix "COMMIT_STATUS_" .env) }}
      - name: {{ .env }}
        value: {{ printf "%s/%s" .dir .key | quote }}
      {{- end }}
      {{- end }}
      {{- /* In fleet mode a value left at its default is not passed: the
      central ConfigMap syncreport-settings decides it (the Job's own
      environment would win over it). HOOK_TIMEOUT is always passed: the
      Job's deadline is computed from it. */}}
      {{- if or (not $fleet) (ne $v.config.stdoutFormat "text") }}
      - name: STDOUT_FORMAT
        value: {{ $v.config.stdoutFormat | quote }}
      {{- end }}
      {{- if or (not $fleet) (ne $v.config.retryNotify "update") }}
      - name: RETRY_NOTIFY
        value: {{ $v.config.retryNotify | quote }}
      {{- end }}
      - name: HOOK_TIMEOUT
        value: {{ $v.config.timeout | quote }}
      {{- if or (not $fleet) $v.config.failOnDeliveryError }}
      - name: FAIL_ON_DELIVERY_ERROR
        value: {{ $v.config.failOnDeliveryError | quote }}
      {{- end }}
      {{- if or (not $fleet) (ne $v.config.logLevel "info") }}
      - name: LOG_LEVEL
        value: {{ $v.config.logLevel | quote }}
      {{- end }}
      {{- if gt (int $v.config.logLines) 0 }}
      - name: HOOK_LOG_LINES
        value: {{ $v.config.logLines | quote }}
      {{- end }}
      {{- range .env }}
      - name: {{ .name }}
        value: {{ .value | toString | quote }}
      {{- end }}
      - name: GOMEMLIMIT
        valueFrom:
          resourceFieldRef:
            resource: limits.memory
      {{- range $name := keys $v.env | sortAlpha }}
      {{- if has $name $managed }}
      {{- fail (printf "env.%s: the chart sets %s from its own value; set that instead (see the chart README)" $name $name) }}
      {{- end }}
      - name: {{ $name }}
        value: {{ index $v.env $name | toString | quote }}
      {{- end }}
      {{- with $v.extraEnv }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- with $v.resources }}
    resources:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with $v.securityContext }}
    securityContext:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    terminationMessagePolicy: FallbackToLogsOnError
    {{- if or $mounts $v.extraVolumeMounts }}
    volumeMounts:
      {{- range $mounts }}
      - name: {{ .name }}
        mountPath: {{ .dir }}
        readOnly: true
      {{- end }}
      {{- with $v.extraVolumeMounts }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- end }}
{{- if or $mounts $v.extraVolumes }}
volumes:
  {{- range $mounts }}
  - name: {{ .name }}
    secret:
      secretName: {{ .secret }}
      # A missing Secret or key fails the hook at once, naming the variable,
      # instead of leaving its Pod in ContainerCreating until the deadline.
      optional: true
      items:
        - key: {{ .key }}
          path: {{ .key }}
  {{- end }}
  {{- with $v.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Pod template metadata for a component.
Call with (dict "root" $ "component" "postsync-hook").
*/}}
{{- define "syncreport.podMetadata" -}}
{{- $v := .root.Values -}}
labels:
  {{- include "syncreport.selectorLabels" .root | nindent 2 }}
  app.kubernetes.io/component: {{ .component }}
  {{- with $v.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with $v.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
A hook Job. Call with (dict "root" $ "hook" "PostSync" "suffix" "postsync"
"args" (list "report") "wave" ""), optionally "env" (see syncreport.podSpec)
and "deadline" (activeDeadlineSeconds; default job.activeDeadlineSeconds).
*/}}
{{- define "syncreport.hookJob" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "syncreport.fullname" $root }}-{{ .suffix }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "syncreport.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .suffix }}-hook
  annotations:
    argocd.argoproj.io/hook: {{ .hook }}
    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation,HookSucceeded
    {{- with .wave }}
    argocd.argoproj.io/sync-wave: {{ . | quote }}
    {{- end }}
spec:
  backoffLimit: 0
  activeDeadlineSeconds: {{ default $v.job.activeDeadlineSeconds .deadline }}
  ttlSecondsAfterFinished: {{ $v.job.ttlSecondsAfterFinished }}
  template:
    metadata:
      {{- include "syncreport.podMetadata" (dict "root" $root "component" (printf "%s-hook" .suffix)) | nindent 6 }}
    spec:
      {{- include "syncreport.podSpec" (dict "root" $root "args" .args "env" .env) | nindent 6 }}
{{- end }}

{{/*
Annotations of the ServiceAccount, RBAC and Secret: an early sync wave, so
they exist before any hook runs; with argocd.preSyncSupport they are PreSync
hooks too, so they exist even when the first sync fails in its PreSync phase.
*/}}
{{- define "syncreport.supportAnnotations" -}}
argocd.argoproj.io/sync-wave: {{ .Values.argocd.syncWave | toString | quote }}
{{- if .Values.argocd.preSyncSupport }}
argocd.argoproj.io/hook: PreSync
argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
{{- end }}
{{- end }}
