# Stands in for the image's run_backend.sh: records the signals it was started with ignored
# (the SigIgn mask of /proc/self/status, as the real entrypoint inherits it), then execs the
# stand-in backend with its arguments, as run_backend.sh execs convex-local-backend.
while read -r field value; do
  if [ "$field" = SigIgn: ]; then printf '{"event":"entrypoint","sigIgn":"%s"}\n' "$value" >> "$STAND_IN_LOG"; fi
done < /proc/self/status
exec node "$(dirname "$0")/backend-stand-in.js" "$@"
