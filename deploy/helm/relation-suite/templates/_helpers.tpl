{{/*
The seven processes: values key, name, entry (deploy/stack/apps.ts), what kind
of server it is, and which engines and secrets its config schema reads
(the services' src/config.ts). The chart gives each process exactly those settings.
*/}}
{{- define "rs.components" -}}
gateway:           { name: gateway,            entry: gateway/src/main.ts,                     kind: http,   portVar: HTTP_PORT, scalesBy: cpu,   uses: [redis, etcd],        jwt: verify }
user:              { name: user,               entry: services/user/src/main.ts,               kind: grpc,   portVar: GRPC_PORT, scalesBy: cpu,   uses: [mysql, redis, etcd], jwt: issue }
count:             { name: count,              entry: services/count/src/main.ts,              kind: grpc,   portVar: GRPC_PORT, scalesBy: cpu,   uses: [mysql, redis, etcd], jwt: "" }
relation:          { name: relation,           entry: services/relation/src/main.ts,           kind: grpc,   portVar: GRPC_PORT, scalesBy: cpu,   uses: [mysql, redis, etcd, kafka], jwt: "" }
relationPersister: { name: relation-persister, entry: services/relation/src/persister.main.ts, kind: worker, portVar: "",        scalesBy: kafka, uses: [mysql, redis, kafka], jwt: "" }
countConsumer:     { name: count-consumer,     entry: services/count/src/consumer.main.ts,     kind: worker, portVar: "",        scalesBy: kafka, uses: [mysql, redis, kafka], jwt: "" }
userConsumer:      { name: user-consumer,      entry: services/user/src/consumer.main.ts,      kind: worker, portVar: "",        scalesBy: kafka, uses: [mysql, redis, kafka], jwt: "" }
{{- end -}}

{{/* The process order the templates render in (stable output). */}}
{{- define "rs.order" -}}
[gateway, user, count, relation, relationPersister, countConsumer, userConsumer]
{{- end -}}

{{- define "rs.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "rs.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: relation-suite
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* selector labels of one process: (dict "root" $ "name" "relation") */}}
{{- define "rs.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "rs.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "rs.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "rs.fullname" .)) -}}
{{- end -}}

{{/* Keys that name a secret: refused in ConfigMaps. */}}
{{- define "rs.secretKeyPattern" -}}
(SECRET|PASSWORD|PRIVATE_KEY|DSN|TOKEN$|REDIS_URL)
{{- end -}}

{{/* Fails rendering when a map of non-secret settings holds a secret key: (dict "where" "config" "env" .Values.config) */}}
{{- define "rs.refuseSecrets" -}}
{{- range $k, $v := .env }}
{{- if regexMatch (include "rs.secretKeyPattern" dict) $k }}
{{- fail (printf "%s.%s looks like a secret: put it in secrets (or secrets.existingSecret), never in a ConfigMap" $.where $k) }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The container command of a process entry. */}}
{{- define "rs.command" -}}
["node", "--import", "tsx", "--import", "./pkg/telemetry/src/register.ts", "--enable-source-maps", {{ . | quote }}]
{{- end -}}

{{/* runMain's own deadline (pkg/runtime/src/run-main.ts) and the time allowed for a Kafka producer's flush. */}}
{{- define "rs.runMainDeadlineSeconds" -}}25{{- end -}}
{{- define "rs.kafkaFlushSeconds" -}}5{{- end -}}

{{/* Non-secret settings of one process, as a YAML map: (dict "root" $ "c" $component "v" $values) */}}
{{- define "rs.configData" -}}
{{- $root := .root -}}
{{- $c := .c -}}
{{- $data := dict -}}
{{- range $k, $v := $root.Values.config }}{{ $_ := set $data $k (toString $v) }}{{ end -}}
{{- $_ := set $data "OTEL_SERVICE_NAME" $c.name -}}
{{- with $root.Values.otlpEndpoint }}{{ $_ := set $data "OTEL_EXPORTER_OTLP_ENDPOINT" . }}{{ end -}}
{{- if has "mysql" $c.uses }}
{{- $_ := set $data "MYSQL_VIRTUAL_SHARDS" (toString (int $root.Values.mysql.virtualShards)) -}}
{{- $_ := set $data "MYSQL_POOL_SIZE" (toString (int $root.Values.mysql.poolSize)) -}}
{{- with $root.Values.mysql.shardMap }}{{ $_ := set $data "MYSQL_SHARD_MAP" . }}{{ end -}}
{{- end }}
{{- if has "etcd" $c.uses }}{{ $_ := set $data "ETCD_ENDPOINTS" (join "," (required "etcd.endpoints: list the etcd client URLs" $root.Values.etcd.endpoints)) }}{{ end -}}
{{- if has "kafka" $c.uses }}{{ $_ := set $data "KAFKA_BROKERS" (join "," (required "kafka.brokers: list the Kafka bootstrap brokers (host:port)" $root.Values.kafka.brokers)) }}{{ end -}}
{{- if $c.jwt }}{{ $_ := set $data "JWT_ALGORITHM" $root.Values.jwt.algorithm }}{{ end -}}
{{- range $k, $v := .v.env }}{{ $_ := set $data $k (toString $v) }}{{ end -}}
{{- toYaml $data -}}
{{- end -}}

{{/* Secret keys one process reads, in order: (dict "root" $ "c" $component) */}}
{{- define "rs.secretKeys" -}}
{{- $keys := list -}}
{{- if has "mysql" .c.uses }}{{ $keys = append $keys "MYSQL_SHARD_DSNS" }}{{ end -}}
{{- if has "redis" .c.uses }}{{ $keys = append $keys "REDIS_URL" }}{{ end -}}
{{- if .c.jwt }}
{{- if eq .root.Values.jwt.algorithm "HS256" }}{{ $keys = append $keys "JWT_SECRET" }}
{{- else if eq .c.jwt "issue" }}{{ $keys = append $keys "JWT_PRIVATE_KEY" }}
{{- else }}{{ $keys = append $keys "JWT_PUBLIC_KEY" }}
{{- end }}
{{- end -}}
{{- toJson $keys -}}
{{- end -}}

{{/* REDIS_URL from the values: redis.url as given, or a Redis Cluster by its seed nodes (redis.cluster.nodes). */}}
{{- define "rs.redisUrl" -}}
{{- if .Values.redis.cluster.nodes -}}
redis-cluster://{{ join "," .Values.redis.cluster.nodes }}
{{- else -}}
{{ .Values.redis.url }}
{{- end -}}
{{- end -}}

{{/* Every rule the values must keep; rendering stops with the reason otherwise. */}}
{{- define "rs.validate" -}}
{{- $root := . -}}
{{- include "rs.refuseSecrets" (dict "where" "config" "env" .Values.config) -}}
{{- if not (has .Values.jwt.algorithm (list "HS256" "RS256")) }}{{ fail "jwt.algorithm must be HS256 or RS256" }}{{ end -}}
{{- if .Values.secrets.existingSecret }}
{{- if or .Values.mysql.shardDsns .Values.redis.url .Values.redis.cluster.nodes .Values.secrets.jwtSecret .Values.secrets.jwtPrivateKey .Values.secrets.jwtPublicKey }}
{{- fail "secrets.existingSecret is set: put MYSQL_SHARD_DSNS, REDIS_URL and the JWT secret or keys in that Secret, not in mysql.shardDsns, redis.url, redis.cluster.nodes or secrets.*" }}
{{- end }}
{{- else }}
{{- if not .Values.mysql.shardDsns }}{{ fail "mysql.shardDsns: list the shard DSNs (or name secrets.existingSecret)" }}{{ end -}}
{{- if and .Values.redis.url .Values.redis.cluster.nodes }}{{ fail "redis.url and redis.cluster.nodes are both set: name one Redis endpoint or one Redis Cluster" }}{{ end -}}
{{- if not (or .Values.redis.url .Values.redis.cluster.nodes) }}{{ fail "redis.url: set the Redis URL, or redis.cluster.nodes for a Redis Cluster (or name secrets.existingSecret)" }}{{ end -}}
{{- range .Values.redis.cluster.nodes }}{{ if not (regexMatch "^[^:,/@]+:[0-9]{1,5}$" .) }}{{ fail (printf "redis.cluster.nodes: %q is not host:port" .) }}{{ end }}{{ end -}}
{{- if eq .Values.jwt.algorithm "HS256" }}
{{- if lt (len .Values.secrets.jwtSecret) 32 }}{{ fail "secrets.jwtSecret: at least 32 characters are needed for HS256 (or name secrets.existingSecret)" }}{{ end -}}
{{- else if not (and .Values.secrets.jwtPrivateKey .Values.secrets.jwtPublicKey) }}
{{- fail "secrets.jwtPrivateKey and secrets.jwtPublicKey: RS256 needs both (or name secrets.existingSecret)" }}
{{- end }}
{{- end }}
{{- $deadline := int (include "rs.runMainDeadlineSeconds" .) -}}
{{- $flush := int (include "rs.kafkaFlushSeconds" .) -}}
{{- $pre := int .Values.termination.preStopSleepSeconds -}}
{{- $grace := int .Values.termination.gracePeriodSeconds -}}
{{- $components := include "rs.components" . | fromYaml -}}
{{- range $key := include "rs.order" . | fromYamlArray }}
{{- $v := index $root.Values $key -}}
{{- $c := index $components $key -}}
{{- include "rs.refuseSecrets" (dict "where" (printf "%s.env" $key) "env" $v.env) -}}
{{- $shutdownMs := int (default (default 10000 $root.Values.config.SHUTDOWN_TIMEOUT_MS) $v.env.SHUTDOWN_TIMEOUT_MS) -}}
{{- $needed := add $pre (max $deadline (add (div (add $shutdownMs 999) 1000) $flush)) -}}
{{- if le $grace $needed }}
{{- fail (printf "termination.gracePeriodSeconds (%d) must exceed %d for %s: preStop sleep %ds + the process's stop (SHUTDOWN_TIMEOUT_MS %dms + %ds Kafka flush, capped by runMain at %ds)" $grace $needed $c.name $pre $shutdownMs $flush $deadline) }}
{{- end -}}
{{- if and (eq $c.scalesBy "kafka") $v.enabled (gt (int $v.replicas) (int $root.Values.kafka.partitions)) }}
{{- fail (printf "%s.replicas (%d) exceeds kafka.partitions (%d): a consumer group member beyond the partition count gets no partition" $key (int $v.replicas) (int $root.Values.kafka.partitions)) }}
{{- end -}}
{{- if and (eq $c.scalesBy "kafka") $v.autoscaling }}
{{- fail (printf "%s.autoscaling: the Kafka consumers scale by partitions, not CPU; set %s.replicas (at most kafka.partitions)" $key $key) }}
{{- end -}}
{{- end }}
{{- end -}}
