import { GeneralChatWrapper, LlamaText, type ChatModelFunctions, type ChatWrapperSettings } from 'node-llama-cpp'

/**
 * The chat format of Commons' own agent models: GeneralChatWrapper's turns with a short
 * list of tools instead of its page of TypeScript signatures, so the prompt fits the
 * small context of a model the network trains. Tool-use dialogues for training are
 * rendered with this class, so the model learns exactly what it is shown.
 *
 * A call is written `||call:name{...}`: node-llama-cpp feeds the model the call prefix,
 * and later the prefix and the name, as tokens of their own, so each must end where a BPE
 * splits the training text anyway. With `||call: name` a BPE model saw a lone space
 * before the name (never in training: it called its first tool whatever it was asked);
 * with `name({` it saw `(` alone where training had `({"` (its arguments ran on).
 */
export class CommonsChatWrapper extends GeneralChatWrapper {
  override readonly wrapperName: string = 'Commons'

  constructor () {
    super()
    const { functions } = this.settings
    // settings is read-only to users of the class; a subclass sets its own once, here.
    ;(this as { settings: ChatWrapperSettings }).settings = { ...this.settings, functions: { ...functions, call: { ...functions.call, prefix: '||call:', optionalPrefixSpace: false, prefixAlternateMatches: [], paramsPrefix: '', suffix: '' } } }
  }

  override generateAvailableFunctionsSystemText (availableFunctions: ChatModelFunctions, _options: { documentParams?: boolean }): LlamaText {
    const names = Object.keys(availableFunctions)
    if (names.length === 0) return LlamaText([])
    return LlamaText(`Tools: ${names.join(', ')}. Call one as ||call:name{...}.`)
  }
}
