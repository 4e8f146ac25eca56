# Sourced by scripts/ensure-nats-server.sh and bench/peers/ensure-redis.sh: fetching Debian packages by
# name with a private apt state (no change to the system: its own sources, lists, caches and pins).

# Prints the Debian mirror this machine's apt sources name (not the security one); empty when none.
debian_mirror() {
  local f m
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    m="$(grep -hE '^[[:space:]]*(URIs:|deb )' "$f" 2>/dev/null | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)"
    [ -n "$m" ] && { echo "${m%/}"; return 0; }
  done
  return 0
}

# private_apt DIR MIRROR SUITE...: a sources.list of SUITE... (main, the archive's keyring) under DIR,
# and in the array APT_OPTS the options that keep apt-get/apt-cache to DIR (pass "${APT_OPTS[@]}").
private_apt() {
  local dir="$1" mirror="$2" s keyring=/usr/share/keyrings/debian-archive-keyring.gpg signed=""
  shift 2
  mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/etc" "$dir/cache"
  [ -f "$keyring" ] && signed="[signed-by=$keyring]"
  : > "$dir/etc/sources.list"
  for s in "$@"; do echo "deb $signed $mirror $s main" >> "$dir/etc/sources.list"; done
  APT_OPTS=(-o Dir::Etc::SourceList="$dir/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
    -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" -o Dir::Cache::Archives="$dir/archives"
    -o Dir::State::Status=/dev/null -o APT::Architecture="$(dpkg --print-architecture)" -o Debug::NoLocking=1)
}
