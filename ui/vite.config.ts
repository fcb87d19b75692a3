import { defineConfig } from "vite";

// Plain esbuild JSX (React 19's automatic runtime); no plugin needed for a production build.
export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: {
    target: "safari16",
    outDir: "dist",
    emptyOutDir: true,
    // The CSP allows no inline scripts or styles: keep every asset a file.
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    sourcemap: false,
  },
  server: { port: 5173, strictPort: true },
  clearScreen: false,
});
