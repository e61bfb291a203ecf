#!/usr/bin/env node
// The `im` command. IMService runs from TypeScript source: tsx compiles on load, with this
// package's tsconfig (experimentalDecorators) whatever the working directory.
import { register } from 'tsx/esm/api'

register({ tsconfig: new URL('../tsconfig.json', import.meta.url).pathname })
await import('./im.ts')
