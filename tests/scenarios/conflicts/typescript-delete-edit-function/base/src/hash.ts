// Hashing of cache keys.

import { createHash } from "crypto";

export function legacyHash(key: string): string {
  let h = 0;
  for (const ch of key) {
    h = (h * 31 + ch.charCodeAt(0)) | 0;
  }
  return h.toString(16);
}

export function cacheKey(parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex");
}
