import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// `npm run dev` serves the app with hot reload and passes the API through
// to a running plaza (PLAZA_URL, default http://127.0.0.1:8080).
const plaza = process.env.PLAZA_URL ?? 'http://127.0.0.1:8080';
const pass = { target: plaza, changeOrigin: false };
const passWs = { ...pass, ws: true };

export default defineConfig({
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    // Hashed names only, so every asset can be cached for a year.
    rollupOptions: { output: { entryFileNames: 'assets/[name]-[hash].js' } },
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/api': pass,
      '/graphql': passWs,
      '/ws': passWs,
      '/meditation/group': passWs,
      '/health': pass,
      '/metrics': pass,
    },
  },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
