// Every page of the app, loaded when first shown. The paths' first
// segments are the ones plaza answers with index.html
// (crates/plaza-app/src/web/mod.rs, APP_PATHS); a test keeps the two lists
// in step.

import type { Component } from 'svelte';

type Page = () => Promise<{ default: Component<any> }>;

export interface Route {
  path: string;
  page: Page;
  /** Signed-in users only. */
  auth?: boolean;
  admin?: boolean;
  title: string;
}

export const routes: Route[] = [
  { path: '/', page: () => import('./pages/Home.svelte'), title: 'plaza' },
  { path: '/sign-in', page: () => import('./pages/SignIn.svelte'), title: 'Sign in' },
  { path: '/sign-in/oauth', page: () => import('./pages/SignIn.svelte'), title: 'Sign in' },
  { path: '/sign-up', page: () => import('./pages/SignUp.svelte'), title: 'Create an account' },
  { path: '/chats', page: () => import('./pages/Chats.svelte'), auth: true, title: 'Chats' },
  { path: '/chats/:id', page: () => import('./pages/Chats.svelte'), auth: true, title: 'Chat' },
  { path: '/notifications', page: () => import('./pages/Notifications.svelte'), auth: true, title: 'Notifications' },
  { path: '/settings', page: () => import('./pages/Settings.svelte'), auth: true, title: 'Settings' },
  { path: '/meditate', page: () => import('./pages/Meditate.svelte'), auth: true, title: 'Meditate' },
  { path: '/meditate/rooms/:id', page: () => import('./pages/Room.svelte'), auth: true, title: 'Group meditation' },
  { path: '/projects', page: () => import('./pages/Projects.svelte'), auth: true, title: 'Projects' },
  { path: '/projects/:id', page: () => import('./pages/Project.svelte'), auth: true, title: 'Project' },
  { path: '/fitness', page: () => import('./pages/Fitness.svelte'), auth: true, title: 'Fitness' },
  { path: '/wallet', page: () => import('./pages/Wallet.svelte'), auth: true, title: 'Wallet' },
  { path: '/admin', page: () => import('./admin/Console.svelte'), admin: true, title: 'Console' },
  { path: '/admin/:section', page: () => import('./admin/Console.svelte'), admin: true, title: 'Console' },
  { path: '/admin/:section/:id', page: () => import('./admin/Console.svelte'), admin: true, title: 'Console' },
];

/** The first path segments the server must answer with the app. */
export const appPrefixes = [...new Set(routes.map((r) => r.path.split('/')[1] ?? ''))];
