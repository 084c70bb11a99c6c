// The shapes the app reads, as the OpenAPI document (/api-docs) gives them.

export interface Tokens {
  access_token: string;
  refresh_token: string;
}

export interface User {
  id: string;
  username: string;
  email: string | null;
  email_verified: boolean;
  display_name: string | null;
  avatar_url: string | null;
  bio: string | null;
  role: string;
  locale: string;
  timezone: string;
  two_factor: string[] | null;
  created_at: string;
}

export interface TokenResponse extends Tokens {
  user: User;
}

export interface MfaRequired {
  mfa_required: true;
  mfa_token: string;
  methods: string[];
}

export interface FileView {
  id: string;
  url: string;
  content_type: string;
  byte_size: number;
  name: string | null;
  width: number | null;
  height: number | null;
}

export interface Message {
  id: string;
  chat_id: string;
  seq: number;
  sender_id: string | null;
  content: string | null;
  message_type: 'text' | 'image' | 'file' | 'system';
  reply_to: string | null;
  client_id: string | null;
  attachments: FileView[];
  /** Per emoji: how many, and whether I am one of them. */
  reactions: Record<string, { count: number; me: boolean }>;
  deleted: boolean;
  edited_at: string | null;
  created_at: string;
}

export interface Chat {
  id: string;
  type: 'direct' | 'group' | 'channel';
  name: string | null;
  group_id: string | null;
  last_seq: number;
  last_message_at: string | null;
  created_at: string;
}

export interface ChatSummary extends Chat {
  role: string;
  unread_count: number;
  last_read_seq: number;
  last_message: Message | null;
}

export interface Member {
  user_id: string;
  username: string;
  display_name: string | null;
  role: string;
  last_read_seq: number;
}

export interface Page<T> {
  items: T[];
  has_more?: boolean;
  total?: number;
}

export interface Notification {
  id: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  read: boolean;
  created_at: string;
}

export interface SessionView {
  id: string;
  user_agent: string | null;
  ip: string | null;
  created_at: string;
  last_used_at: string;
  current: boolean;
}

/** A socket frame: `{type, data, id?}` (docs/realtime.md). */
export interface Frame {
  type: string;
  data?: Record<string, unknown>;
  id?: unknown;
}
