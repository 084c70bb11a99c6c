// Pictures and files stored in plaza, shown with signed links
// (POST /api/files/{id}/link) so an <img> needs no bearer token.

import { api } from './api';
import type { FileView } from './types';

const links = new Map<string, Promise<string>>();

/** A signed URL for a file (a thumbnail with `size` 64 or 256), cached for the page's life. */
export function link(id: string, size?: 64 | 256): Promise<string> {
  const key = `${id}:${size ?? ''}`;
  let url = links.get(key);
  if (!url) {
    url = api
      .post<{ url: string }>(`/api/files/${encodeURIComponent(id)}/link${size ? `?size=${size}` : ''}`)
      .then((l) => l.url);
    url.catch(() => links.delete(key));
    links.set(key, url);
  }
  return url;
}

/** The id in an `avatar_url` or file URL ("/api/files/{id}…"), if it is plaza's. */
export function fileId(url: string | null | undefined): string | null {
  const m = url?.match(/\/api\/files\/([^/?#]+)/);
  return m?.[1] ?? null;
}

export function upload(file: File, progress: (done: number) => void): Promise<FileView> {
  const form = new FormData();
  form.append('file', file, file.name);
  return api.upload<FileView>('/api/files', form, progress);
}

export const isPicture = (f: FileView) => f.content_type.startsWith('image/');
