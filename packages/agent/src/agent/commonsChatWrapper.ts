import { GeneralChatWrapper, LlamaText, type ChatModelFunctions } from 'node-llama-cpp'

/**
 * The chat format of Commons' own agent models: GeneralChatWrapper's turns with a short
 * list of tools instead of its page of TypeScript signatures, so the prompt fits the
 * small context of a model the network trains. Tool-use dialogues for training are
 * rendered with this class, so the model learns exactly what it is shown.
 */
export class CommonsChatWrapper extends GeneralChatWrapper {
  override readonly wrapperName: string = 'Commons'

  override generateAvailableFunctionsSystemText (availableFunctions: ChatModelFunctions, _options: { documentParams?: boolean }): LlamaText {
    const names = Object.keys(availableFunctions)
    if (names.length === 0) return LlamaText([])
    return LlamaText(`Tools: ${names.join(', ')}. Call one as ||call: name({...}).`)
  }
}
