// The shapes data takes on its way to the trainer: raw records → tokenized examples → batches (in train/).

/** One turn of a conversation, as chat datasets and chat templates write it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One dataset record. A task record has prompt + completion; a general-text record has text only. */
export interface DataRecord {
  id: string; // stable id, e.g. "train-17" or the line number of an upload
  prompt?: string; // the input the model sees
  completion?: string; // the answer it should produce (for classification: the label text)
  text?: string; // plain text (general corpus, or a text-only upload)
  label?: string; // class label (classification tasks); equals completion there
  group?: string; // sensitive/demographic group, for per-group fairness metrics
  separator?: string; // the record's own separator, in place of data.separator (set by data.mixFormats, never by the user's file)
  flags?: { noisy?: boolean; poisoned?: boolean }; // set by noise/poison injection, never by the user's file
  messages?: ChatMessage[]; // a chat record's turns; prompt/completion hold them as the model's chat template writes them (data/chat.ts)
}

/** A tokenized example. lossMask[i] = 1 when predicting ids[i] counts towards the loss. */
export interface Example {
  recordId: string;
  ids: number[];
  lossMask: number[];
}
