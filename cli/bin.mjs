#!/usr/bin/env node
// The `im` command. IMService itself runs as compiled JavaScript from dist/ (the installed
// package); in its own repository, where the TypeScript sources sit next to this file, it runs
// from them. tsx is registered for the project's own TypeScript (im.config.ts, hubs/*.ts) and
// compiles it with hub-tsconfig.json, not with the project's tsconfig: a project compiled with
// standard decorators would load hubs whose members never registered.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { register } from 'tsx/esm/api'

register({ tsconfig: fileURLToPath(new URL('./hub-tsconfig.json', import.meta.url)) })
const source = new URL('./im.ts', import.meta.url)
await import(existsSync(fileURLToPath(source)) ? source.href : new URL('../dist/cli/im.js', import.meta.url).href)
