// Writes the shipped text: the general corpus of a small invented world (public/corpus/) and the small task
// datasets the lessons fine-tune on (public/datasets/), with their READMEs and the picker's index.json.
// Run: npx tsx scripts/maintain/make-data.ts [--out DIR]   (seeded: every run writes the same bytes; --out writes under DIR, not public/)

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from '../../src/core/rng';
import { a, cap, fnv1a, list, otherThan, their, them, they } from './text-gen';

// ---------------------------------------------------------------- the world ----------------------------------
// Each person's facts are fixed, so the corpus never contradicts itself: a model can learn that Mia's cat is Pip.
type Person = {
  name: string;
  he: boolean;
  town: string;
  pet: string;
  petName: string;
  colour: string;
  job: string;
  food: string;
};
const PEOPLE: Person[] = (
  [
    // name,  he?,   town,        pet,      pet's name, colour,   job,         favourite food
    ['Mia', false, 'Northvale', 'cat', 'Pip', 'blue', 'baker', 'plums'],
    ['Tom', true, 'Southmere', 'dog', 'Rex', 'green', 'fisher', 'soup'],
    ['Ada', false, 'Eastbrook', 'goat', 'Moss', 'yellow', 'teacher', 'cheese'],
    ['Ben', true, 'Westwick', 'hen', 'Dot', 'red', 'sailor', 'fish'],
    ['Lila', false, 'Highfield', 'rabbit', 'Fern', 'purple', 'farmer', 'carrots'],
    ['Sam', true, 'Lowmoor', 'duck', 'Puddle', 'orange', 'miller', 'bread'],
    ['Nora', false, 'Northvale', 'owl', 'Hoot', 'grey', 'librarian', 'honey'],
    ['Finn', true, 'Southmere', 'horse', 'Storm', 'brown', 'smith', 'apples'],
    ['Rosa', false, 'Eastbrook', 'dog', 'Biscuit', 'pink', 'painter', 'cakes'],
    ['Leo', true, 'Westwick', 'cat', 'Shadow', 'black', 'cook', 'eggs'],
    ['Ivy', false, 'Highfield', 'sheep', 'Cloud', 'white', 'weaver', 'pears'],
    ['Max', true, 'Lowmoor', 'pig', 'Button', 'green', 'builder', 'nuts'],
    ['Zoe', false, 'Northvale', 'horse', 'Blaze', 'red', 'doctor', 'soup'],
    ['Eli', true, 'Southmere', 'rabbit', 'Clover', 'blue', 'gardener', 'carrots'],
    ['Ruby', false, 'Eastbrook', 'hen', 'Pepper', 'orange', 'potter', 'eggs'],
    ['Owen', true, 'Westwick', 'goat', 'Bramble', 'grey', 'fisher', 'fish'],
    ['Tess', false, 'Highfield', 'dog', 'Scout', 'yellow', 'singer', 'plums'],
    ['Hugo', true, 'Lowmoor', 'owl', 'Twig', 'purple', 'tailor', 'cheese'],
    ['Anna', false, 'Northvale', 'duck', 'Waddle', 'green', 'miller', 'bread'],
    ['Jack', true, 'Southmere', 'cat', 'Smudge', 'yellow', 'builder', 'cakes'],
    ['Lucy', false, 'Eastbrook', 'sheep', 'Wool', 'blue', 'farmer', 'apples'],
    ['Kai', true, 'Westwick', 'dog', 'Pebble', 'white', 'sailor', 'soup'],
    ['Maya', false, 'Highfield', 'pig', 'Rosie', 'pink', 'cook', 'honey'],
    ['Otto', true, 'Lowmoor', 'hen', 'Speck', 'brown', 'smith', 'nuts'],
    ['Pia', false, 'Northvale', 'rabbit', 'Thumper', 'orange', 'painter', 'pears'],
    ['Noah', true, 'Southmere', 'goat', 'Pickle', 'red', 'teacher', 'honey'],
    ['Elsa', false, 'Eastbrook', 'owl', 'Luna', 'white', 'doctor', 'cheese'],
    ['Theo', true, 'Westwick', 'horse', 'Copper', 'black', 'baker', 'bread'],
    ['Iris', false, 'Lowmoor', 'cat', 'Misty', 'purple', 'librarian', 'cakes'],
    ['Jonas', true, 'Highfield', 'duck', 'Splash', 'grey', 'gardener', 'apples'],
    ['Clara', false, 'Southmere', 'sheep', 'Daisy', 'pink', 'weaver', 'plums'],
    ['Felix', true, 'Northvale', 'pig', 'Truffle', 'brown', 'potter', 'eggs'],
  ] as const
).map(([name, he, town, pet, petName, colour, job, food]) => ({ name, he, town, pet, petName, colour, job, food }));

// town -> [what it is like, its landmark, its usual weather]
const TOWNS: Record<string, [string, string, string]> = {
  Northvale: ['a cold town in the hills', 'old tower', 'snowy'],
  Southmere: ['a warm town by a wide lake', 'lake', 'sunny'],
  Eastbrook: ['a busy town on a fast river', 'river', 'rainy'],
  Westwick: ['a small port by the sea', 'harbour', 'windy'],
  Highfield: ['a quiet town among the farms', 'big barn', 'cloudy'],
  Lowmoor: ['a damp town at the edge of the marsh', 'marsh', 'foggy'],
};
const PLACES = ['market', 'bakery', 'mill', 'bridge', 'school', 'library', 'garden', 'well', 'square', 'inn'];
const COLOURS = ['red', 'blue', 'green', 'yellow', 'orange', 'purple', 'pink', 'brown', 'grey', 'white', 'black'];
const OBJECTS = [
  'kite',
  'hat',
  'cup',
  'ball',
  'boat',
  'book',
  'lamp',
  'bag',
  'scarf',
  'drum',
  'basket',
  'bell',
  'coat',
  'box',
  'flag',
];
const FOODS = ['apples', 'pears', 'plums', 'cakes', 'eggs', 'carrots', 'nuts', 'buns', 'figs', 'lemons'];
const NUMBERS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
// animal -> [sound, what it eats, what it likes to do]
const ANIMALS: Record<string, [string, string, string]> = {
  cat: ['meow', 'fish', 'sleep by the fire'],
  dog: ['woof', 'bones', 'run in the field'],
  goat: ['maa', 'grass', 'climb on rocks'],
  hen: ['cluck', 'seeds', 'scratch in the yard'],
  rabbit: ['nothing at all', 'carrots', 'hop in the grass'],
  duck: ['quack', 'bread', 'swim in the pond'],
  horse: ['neigh', 'hay', 'pull the cart'],
  owl: ['hoot', 'mice', 'fly at night'],
  pig: ['oink', 'apples', 'roll in the mud'],
  sheep: ['baa', 'grass', 'stay with the flock'],
};
// weather -> sentences that describe it (rain, snow, storm and fog keep people indoors)
const WEATHER: Record<string, string[]> = {
  sunny: ['The sun was warm and bright.', 'There was not a cloud in the sky.', 'The sun shone all day.'],
  rainy: ['Rain fell on the roofs.', 'The roads were wet and full of puddles.', 'It rained from morning to night.'],
  windy: ['The wind blew hard.', 'The trees bent in the wind.', 'The wind pulled at hats and coats.'],
  foggy: ['A thick fog lay over the town.', 'Nobody could see far in the fog.', 'The fog was grey and cold.'],
  snowy: ['Snow covered the roofs.', 'The roads were white with snow.', 'Snow fell softly all day.'],
  cloudy: ['The sky was grey.', 'Big clouds moved over the hills.', 'The day was dull and still.'],
  stormy: ['Thunder rolled over the hills.', 'A storm shook the windows.', 'The rain and wind did not stop.'],
};
const OUTDOOR = [
  'played ball',
  'walked by the water',
  'picked flowers',
  'painted the fence',
  'planted seeds',
  'raced to the bridge',
  'fed the ducks',
];
const INDOOR = [
  'read a book',
  'baked bread',
  'sang songs',
  'drew pictures',
  'played cards',
  'made soup',
  'mended a coat',
];
// job -> what a person in it does (base form: "I bake bread", "she bakes bread")
const JOB_DEEDS: Record<string, string> = {
  baker: 'bake bread',
  fisher: 'catch fish',
  teacher: 'teach children',
  sailor: 'sail the ships',
  farmer: 'grow food',
  miller: 'grind flour',
  librarian: 'look after books',
  smith: 'make tools',
  painter: 'paint pictures',
  cook: 'cook meals',
  weaver: 'weave cloth',
  builder: 'build houses',
  doctor: 'help sick people',
  gardener: 'grow flowers',
  potter: 'make pots',
  singer: 'sing songs',
  tailor: 'sew clothes',
};

// ---------------------------------------------------------------- helpers ------------------------------------
const rngs = {
  train: new Rng(1),
  heldout: new Rng(2),
  qa: new Rng(3),
  sentiment: new Rng(4),
  shanty: new Rng(5),
  mixed: new Rng(6),
};
let r = rngs.train; // the generator the corpus templates draw from; switched for the held-out file
const pick = <T>(xs: readonly T[], g: Rng = r): T => xs[g.int(xs.length)];
const chance = (p: number, g: Rng = r) => g.next() < p;
/** "catch fish" -> "catches fish": the third-person form of a JOB_DEEDS phrase. */
const does = (deed: string) =>
  deed.replace(/^(\w+?)(ch|sh|s)? /, (_, v: string, end = '') => `${v}${end}${end ? 'es' : 's'} `);
/** "three apples", "one apple": FOODS are plural nouns ending in s. */
const howMany = (n: number, food: string) => `${NUMBERS[n]} ${n === 1 ? food.slice(0, -1) : food}`;
const other = (p: Person, g: Rng = r): Person => otherThan(p, PEOPLE, (xs) => pick(xs, g));
const isHeldOut = (key: string) => fnv1a(key) % 10 === 0;

// ---------------------------------------------------------------- corpus paragraphs ---------------------------
// Each returns the paragraph and a key naming its main slots; a key's paragraphs go to only one of the two files.
type Para = { key: string; text: string };

function story(): Para {
  const hero = pick(PEOPLE);
  const friend = other(hero);
  const weather = chance(0.4) ? TOWNS[hero.town][2] : pick(Object.keys(WEATHER));
  const place = chance(0.25) ? TOWNS[hero.town][1] : pick(PLACES);
  const s: string[] = [];
  s.push(
    pick([
      `One ${weather} morning, ${hero.name} woke up early.`,
      `It was a ${weather} ${pick(DAYS)}, and ${hero.name} was in ${hero.town}.`,
      `On ${pick(DAYS)}, ${hero.name} went out into the ${weather} day.`,
    ]),
  );
  s.push(pick(WEATHER[weather]));
  if (chance(0.6)) s.push(`${cap(they(hero))} took ${their(hero)} ${hero.pet}, ${hero.petName}, along.`);
  s.push(
    pick([
      `At the ${place}, ${they(hero)} met ${friend.name}.`,
      `${cap(they(hero))} walked to the ${place} and saw ${friend.name} there.`,
      `${friend.name} was waiting at the ${place}.`,
    ]),
  );
  if (chance(0.5))
    s.push(
      pick([
        `${friend.name} had come all the way from ${friend.town}.`,
        `${friend.name} had ${a(friend.colour)} ${pick(OBJECTS)}.`,
        `${friend.name} is ${a(friend.job)}, and ${they(friend)} ${does(JOB_DEEDS[friend.job])}.`,
      ]),
    );
  const indoors = ['rainy', 'snowy', 'stormy', 'foggy'].includes(weather);
  const deed = weather === 'windy' && chance(0.5) ? 'flew a kite' : pick(indoors ? INDOOR : OUTDOOR);
  s.push(pick([`Together they ${deed}.`, `They ${deed} until noon.`, `${hero.name} and ${friend.name} ${deed}.`]));
  if (chance(0.4)) {
    const n = 2 + r.int(4);
    s.push(
      `Then ${hero.name} bought ${howMany(n, pick(FOODS))} and gave ${NUMBERS[1 + r.int(n - 1)]} to ${friend.name}.`,
    );
  }
  if (chance(0.3)) s.push(`${hero.petName} the ${hero.pet} wanted to ${ANIMALS[hero.pet][2]}.`);
  s.push(
    pick([
      `In the evening, ${hero.name} went home to ${hero.town}.`,
      `${cap(they(hero))} was tired but happy.`,
      `It was a good day.`,
      `At night ${hero.name} ate some ${hero.food} and went to bed.`,
    ]),
  );
  return { key: `story|${hero.name}|${friend.name}|${place}`, text: s.join(' ') };
}

/** Two people talk; every answer agrees with the speaker's facts. One line per turn. */
function dialogue(): Para {
  const x = pick(PEOPLE);
  const y = other(x);
  const topics = r.shuffle(['pet', 'colour', 'home', 'job', 'food', 'weather', 'plan']).slice(0, 2 + r.int(2));
  const lines = [`"${pick(['Hello', 'Good morning', 'Good evening', 'Hi'])}, ${y.name}," said ${x.name}.`];
  lines.push(`"${pick(['Hello', 'Hi', 'Good day'])}, ${x.name}," said ${y.name}.`);
  for (const t of topics) {
    const [ask, ans] = chance(0.5) ? [x, y] : [y, x];
    if (t === 'pet')
      lines.push(
        `"How is your ${ans.pet}?" asked ${ask.name}.`,
        `"${ans.petName} is well. ${ans.petName} likes to ${ANIMALS[ans.pet][2]}," said ${ans.name}.`,
      );
    if (t === 'colour')
      lines.push(
        `"What is your favourite colour?" asked ${ask.name}.`,
        `"I like ${ans.colour} best," said ${ans.name}.`,
      );
    if (t === 'home')
      lines.push(
        `"Where do you live?" asked ${ask.name}.`,
        `"I live in ${ans.town}. It is ${TOWNS[ans.town][0]}," said ${ans.name}.`,
      );
    if (t === 'job')
      lines.push(
        `"What do you do?" asked ${ask.name}.`,
        `"I am ${a(ans.job)}. I ${JOB_DEEDS[ans.job]}," said ${ans.name}.`,
      );
    if (t === 'food')
      lines.push(`"Are you hungry?" asked ${ask.name}.`, `"Yes. I would like some ${ans.food}," said ${ans.name}.`);
    if (t === 'weather')
      lines.push(
        `"What is the weather like in ${ans.town}?" asked ${ask.name}.`,
        `"It is often ${TOWNS[ans.town][2]} there," said ${ans.name}.`,
      );
    if (t === 'plan')
      lines.push(
        `"Where are you going?" asked ${ask.name}.`,
        `"I am going to the ${pick(PLACES)} with ${ans.petName}," said ${ans.name}.`,
      );
  }
  lines.push(
    pick([
      `"Goodbye, ${y.name}," said ${x.name}.`,
      `"See you soon," said ${y.name}.`,
      `Then ${x.name} and ${y.name} went home.`,
    ]),
  );
  return { key: `dialogue|${x.name}|${y.name}|${topics.join(',')}`, text: lines.join('\n') };
}

function facts(): Para {
  const p = pick(PEOPLE);
  const all = [
    pick([`${cap(they(p))} lives in ${p.town}.`, `${cap(their(p))} home is in ${p.town}.`]),
    pick([
      `${cap(they(p))} has ${a(p.pet)} called ${p.petName}.`,
      `${cap(their(p))} pet is ${a(p.pet)} named ${p.petName}.`,
    ]),
    pick([`${cap(their(p))} favourite colour is ${p.colour}.`, `${cap(they(p))} likes the colour ${p.colour}.`]),
    pick([`${cap(they(p))} is ${a(p.job)}.`, `${cap(they(p))} works as ${a(p.job)} and ${does(JOB_DEEDS[p.job])}.`]),
    pick([`${cap(their(p))} favourite food is ${p.food}.`, `${cap(they(p))} likes to eat ${p.food}.`]),
  ];
  const order = r.shuffle([0, 1, 2, 3, 4]).slice(0, 3 + r.int(3));
  const text = [`This is ${p.name}.`, ...order.map((i) => all[i])].join(' ');
  return { key: `facts|${p.name}|${order.join('')}`, text };
}

function town(): Para {
  const name = pick(Object.keys(TOWNS));
  const [what, landmark, weather] = TOWNS[name];
  const folk = r.shuffle(PEOPLE.filter((p) => p.town === name)).slice(0, 2 + r.int(2));
  const places = r.shuffle([...PLACES]).slice(0, 2);
  const s = [`${name} is ${what}.`, `${list(folk.map((p) => p.name))} live there.`];
  s.push(
    pick([
      `There is ${a(places[0])} and ${a(places[1])} near the ${landmark}.`,
      `People like to meet by the ${landmark}.`,
    ]),
  );
  s.push(pick([`It is often ${weather} in ${name}.`, `The weather there is usually ${weather}.`]));
  if (chance(0.5)) s.push(`${folk[0].name} says it is the best town of all.`);
  return { key: `town|${name}|${folk.map((p) => p.name).join(',')}`, text: s.join(' ') };
}

function animal(): Para {
  const kind = pick(Object.keys(ANIMALS));
  const [sound, eats, likes] = ANIMALS[kind];
  const owners = PEOPLE.filter((p) => p.pet === kind);
  const s = r.shuffle([
    `${cap(a(kind))} says ${sound}.`,
    `${cap(a(kind))} eats ${eats}.`,
    `${cap(a(kind))} likes to ${likes}.`,
  ]);
  const owner = pick(owners);
  s.push(
    pick([`${owner.name} has ${a(kind)} called ${owner.petName}.`, `${owner.petName} is ${owner.name}'s ${kind}.`]),
  );
  if (owners.length > 1 && chance(0.5))
    s.push(`${list(owners.map((p) => p.name))} all have ${kind}${kind === 'sheep' ? '' : 's'}.`);
  return { key: `animal|${kind}|${owner.name}|${s[0]}`, text: s.join(' ') };
}

function weatherReport(): Para {
  const name = pick(Object.keys(TOWNS));
  const weather = chance(0.5) ? TOWNS[name][2] : pick(Object.keys(WEATHER));
  const day = pick(DAYS);
  const p = pick(PEOPLE.filter((q) => q.town === name));
  const indoors = ['rainy', 'snowy', 'stormy', 'foggy'].includes(weather);
  const s = [`On ${day} it was ${weather} in ${name}.`, pick(WEATHER[weather])];
  s.push(indoors ? `${p.name} stayed at home and ${pick(INDOOR)}.` : `${p.name} went out and ${pick(OUTDOOR)}.`);
  if (chance(0.5)) s.push(`${p.petName} the ${p.pet} ${indoors ? 'stayed inside too' : 'came along'}.`);
  return { key: `weather|${name}|${weather}|${day}|${p.name}`, text: s.join(' ') };
}

function counting(): Para {
  const p = pick(PEOPLE);
  const q = other(p);
  const food = pick(FOODS);
  const x = 1 + r.int(5);
  const y = 1 + r.int(5);
  const text = chance(0.5)
    ? `${p.name} had ${howMany(x, food)}. ${q.name} gave ${them(p)} ${NUMBERS[y]} more. Now ${p.name} has ${howMany(x + y, food)}.`
    : `${p.name} had ${howMany(x + y, food)}. ${cap(they(p))} gave ${NUMBERS[y]} to ${q.name}. Now ${p.name} has ${howMany(x, food)} left.`;
  return { key: `count|${p.name}|${q.name}|${food}|${x}|${y}`, text };
}

// how often each kind of paragraph appears
const KINDS: [() => Para, number][] = [
  [story, 35],
  [dialogue, 25],
  [facts, 12],
  [town, 5],
  [animal, 7],
  [weatherReport, 8],
  [counting, 8],
];

function corpus(heldOut: boolean, targetBytes: number): string {
  const total = KINDS.reduce((n, [, w]) => n + w, 0);
  const paras: string[] = [];
  let bytes = 0;
  while (bytes < targetBytes) {
    let u = r.int(total);
    const [make] = KINDS.find(([, w]) => (u -= w) < 0)!;
    const p = make();
    if (isHeldOut(p.key) !== heldOut) continue;
    paras.push(p.text);
    bytes += p.text.length + 2;
  }
  return paras.join('\n\n') + '\n';
}

// ---------------------------------------------------------------- task datasets -------------------------------
type Rec = Record<string, string>;
const MAX_RECORD_CHARS = 110; // prompt + "\nA: " + completion, so a record fits the 128-character context with room
const fullText = (x: Rec) => x.text ?? `${x.prompt}\nA: ${x.completion}`;

/** One QA pair whose answer is written in its own short context. */
function qaPair(g: Rng): Rec {
  const x = pick(PEOPLE, g);
  const y = other(x, g);
  const [o1, o2] = g.shuffle([...OBJECTS]);
  const [c1, c2] = g.shuffle([...COLOURS]);
  const second = chance(0.5, g);
  switch (g.int(6)) {
    case 0:
      return chance(0.4, g)
        ? { prompt: `${x.name} has ${a(c1)} ${o1}. What colour is the ${o1}?`, completion: c1 }
        : {
            prompt: `${x.name} has ${a(c1)} ${o1} and ${a(c2)} ${o2}. What colour is the ${second ? o2 : o1}?`,
            completion: second ? c2 : c1,
          };
    case 1:
      return {
        prompt: `${x.name} has ${a(o1)} and ${y.name} has ${a(o2)}. Who has the ${second ? o2 : o1}?`,
        completion: second ? y.name : x.name,
      };
    case 2: {
      const [p1, p2] = g.shuffle([...PLACES]);
      return {
        prompt: `${x.name} went to the ${p1} and ${y.name} went to the ${p2}. Where did ${second ? y.name : x.name} go?`,
        completion: `the ${second ? p2 : p1}`,
      };
    }
    case 3: {
      if (x.town === y.town) return qaPair(g);
      return {
        prompt: `${x.name} lives in ${x.town} and ${y.name} lives in ${y.town}. Where does ${second ? y.name : x.name} live?`,
        completion: second ? y.town : x.town,
      };
    }
    case 4: {
      const [f1, f2] = g.shuffle([...FOODS]);
      const [n1, n2] = g.shuffle([1, 2, 3, 4, 5]);
      return {
        prompt: `${x.name} has ${howMany(n1, f1)} and ${howMany(n2, f2)}. How many ${second ? f2 : f1} does ${x.name} have?`,
        completion: NUMBERS[second ? n2 : n1],
      };
    }
    default: {
      if (chance(0.5, g)) {
        const [p1, p2] = g.shuffle([...PLACES]);
        const [k1, k2] = g.shuffle(Object.keys(ANIMALS));
        return {
          prompt: `${cap(a(k1))} sat by the ${p1} and ${a(k2)} sat by the ${p2}. What animal sat by the ${second ? p2 : p1}?`,
          completion: second ? k2 : k1,
        };
      }
      if (x.pet === y.pet) return qaPair(g);
      return {
        prompt: `${x.name} has ${a(x.pet)} called ${x.petName} and ${y.name} has ${a(y.pet)} called ${y.petName}. What animal is ${second ? y.petName : x.petName}?`,
        completion: second ? y.pet : x.pet,
      };
    }
  }
}

// review subjects and adjectives, by what kind of thing is reviewed: [subjects, good words, bad words]
const REVIEW: [string[], string[], string[]][] = [
  [
    ['soup', 'bread', 'tea', 'pie', 'cake', 'fish stew'],
    ['fresh', 'tasty', 'sweet', 'delicious'],
    ['stale', 'bland', 'burnt', 'sour'],
  ],
  [
    ['inn', 'room', 'market', 'bath house', 'library', 'garden'],
    ['clean', 'cosy', 'bright', 'lovely'],
    ['dirty', 'damp', 'gloomy', 'smelly'],
  ],
  [
    ['innkeeper', 'baker', 'guide', 'ferryman', 'shopkeeper', 'cook'],
    ['kind', 'friendly', 'helpful', 'cheerful'],
    ['rude', 'unfriendly', 'grumpy', 'unhelpful'],
  ],
  [
    ['fair', 'boat trip', 'concert', 'play', 'dance', 'parade'],
    ['wonderful', 'fun', 'exciting', 'great'],
    ['boring', 'dull', 'awful', 'terrible'],
  ],
];
const SPEAKERS = [
  'A visitor',
  'A fisher',
  'A farmer',
  'Someone',
  'A child',
  'A guest',
  'A teacher',
  'An old man',
  'A woman',
];
const GROUPS = ['Northvale', 'Southmere'];

function review(g: Rng, group: string, good: boolean): Rec {
  const [subjects, goodWords, badWords] = pick(REVIEW, g);
  const words = good ? goodWords : badWords;
  const [s1, s2] = g.shuffle([...subjects]);
  const [w1, w2] = g.shuffle([...words]);
  const opener = `${pick(SPEAKERS, g)} from ${group} ${pick(['said', 'wrote', 'told us'], g)}:`;
  const remark = pick(
    [
      `the ${s1} was ${w1}.`,
      `the ${s1} was ${w1} and the ${s2} was ${w2}.`,
      `what ${a(w1)} ${s1}!`,
      `I found the ${s1} very ${w1}.`,
      `the ${s1} was ${w1}, and so was the ${s2}.`,
      `the ${s1}? ${cap(w1)}, really ${w2}.`,
    ],
    g,
  );
  const label = good ? 'good' : 'bad';
  return { prompt: `${opener} ${remark}`, completion: label, label, group };
}

const WINDS = ["nor'east", "nor'west", "sou'east", "sou'west", 'due north', 'due south', 'dead astern'];
// no V, Q, U or X in capitals, no digits, colons or exclamation marks: the general corpus never uses them
const CALLS = ['AYE', 'AHOY', 'YO HO', 'BELAY THAT', 'ALL HANDS', 'STEADY NOW'];
const DEEDS = [
  'hauled the mainsail',
  'tarred the keel',
  'swabbed the deck',
  'reefed the topsail',
  'mended the foresail',
  'pumped the bilge',
  'coiled the rigging',
  'stowed the anchor',
  'scraped the barnacles',
  'lashed the barrels',
];
const SIGHTS = [
  'a whale to starboard',
  'gulls off the port bow',
  'a sail on the horizon',
  'the Westwick light',
  'a reef to leeward',
  'a sea serpent, says the cook',
];
const ENDS = [
  'Rum for all hands.',
  'Fair winds, me hearties.',
  "Bosun's in a temper.",
  'Biscuit full of weevils.',
  'Sea like glass.',
  "Cap'n sleeps sound.",
];
const VERSE_A = ['haul away', 'heave away', 'roll and go', 'row, me boys', 'blow, ye winds'];
const VERSE_B = [
  'the gale is on the bow',
  'the rum is running low',
  'the tide is on the turn',
  "the anchor's weighed and gone",
  'the Salty Gull rides high',
];
const VERSE_C = [
  "we'll drink in Westwick town",
  "we'll see our sweethearts soon",
  "we'll sail the briny deep",
  "we'll sing till break of day",
  "we'll round the Cape by dawn",
];
const TEENS = ['eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', 'ten', 'twenty', 'thirty', 'forty'];
/** 1..49 in words ("twenty three"); the corpus spells numbers out. */
const inWords = (n: number) =>
  n <= 10 ? NUMBERS[n] : n < 20 ? TEENS[n - 11] : `${TENS[Math.floor(n / 10)]}${n % 10 ? ` ${NUMBERS[n % 10]}` : ''}`;

/**
 * A ship's-log or shanty line, as plain text. It has no digits, colons, slashes or exclamation marks, so every
 * character is one the base model saw in pretraining (checked below). Its style (the calls in capitals, "me lads",
 * the log's clipped clauses) is what is far from the general corpus, not its alphabet.
 */
function shantyLine(g: Rng): Rec {
  let text: string;
  if (chance(0.6, g)) {
    const parts = [`wind ${pick(WINDS, g)}, ${inWords(2 + g.int(9))} knots`, `we ${pick(DEEDS, g)}`];
    if (chance(0.5, g)) parts.push(`sighted ${pick(SIGHTS, g)}`);
    text = `Log, day ${inWords(1 + g.int(49))}. ${pick(CALLS, g)}, ${parts.join(', ')}. ${pick(ENDS, g)}`;
  } else {
    text = `Oh, ${pick(VERSE_A, g)}, me lads, ${pick(VERSE_B, g)}, ${pick(VERSE_C, g)}, ${pick(CALLS, g)}.`;
  }
  return text.length <= MAX_RECORD_CHARS ? { text } : shantyLine(g);
}

// the inconsistent formats of qa-mixed: each joins a QA pair a different way
const MIXED_FORMATS: ((q: string, ans: string) => string)[] = [
  (q, ans) => `${q}\nA: ${ans}`,
  (q, ans) => `${q} -> ${ans}`,
  (q, ans) => `${q} ${ans}`,
  (q, ans) => `${q}${ans}`,
  (q, ans) => `${q}\nAnswer: ${ans}`,
  (q, ans) => `Q: ${q} Answer: ${cap(ans)}.`,
];

/** Draw until `count` records with distinct `keyOf`, throwing if a generator cannot reach the count. */
function unique(
  count: number,
  make: () => Rec,
  keyOf: (x: Rec) => string = (x) => x.prompt + '|' + x.completion,
): Rec[] {
  const seen = new Set<string>();
  const out: Rec[] = [];
  for (let tries = 0; out.length < count; tries++) {
    if (tries > count * 50) throw new Error(`only ${out.length} distinct records, wanted ${count}`);
    const x = make();
    if (seen.has(keyOf(x))) continue;
    seen.add(keyOf(x));
    out.push(x);
  }
  return out;
}

// ---------------------------------------------------------------- checks and writing -------------------------
const ALLOWED = /^[\x20-\x7e\n]*$/;

function check(name: string, text: string): void {
  if (!ALLOWED.test(text))
    throw new Error(`${name}: character outside ASCII 32..126 and \\n in ${JSON.stringify(text.slice(0, 80))}`);
}

// --out DIR writes the same files under DIR instead (to compare with the shipped ones)
const outArg = process.argv.indexOf('--out');
const root =
  outArg > 0
    ? pathToFileURL(path.resolve(process.argv[outArg + 1] ?? '.') + '/')
    : new URL('../../public/', import.meta.url);
const written: { file: string; bytes: number }[] = [];
function write(file: string, text: string): void {
  mkdirSync(new URL('.', new URL(file, root)), { recursive: true });
  writeFileSync(new URL(file, root), text);
  written.push({ file, bytes: Buffer.byteLength(text) });
}

// 1. the corpus: train and held-out come from different seeds and disjoint slot combinations
const generalTrain = corpus(false, 760_000);
r = rngs.heldout;
const generalHeldout = corpus(true, 40_000);
for (const [n, t] of [
  ['general-train', generalTrain],
  ['general-heldout', generalHeldout],
])
  check(n, t);
const trainParas = new Set(generalTrain.split('\n\n'));
const copied = generalHeldout.split('\n\n').filter((p) => trainParas.has(p)).length;
if (copied > 0) throw new Error(`general-heldout: ${copied} paragraphs also appear in general-train`);
write('corpus/general-train.txt', generalTrain);
write('corpus/general-heldout.txt', generalHeldout);

// 2. the task datasets
const qa = unique(400, () => qaPair(rngs.qa));
const sentiment = rngs.sentiment.shuffle(
  GROUPS.flatMap((group) => [true, false].flatMap((good) => unique(150, () => review(rngs.sentiment, group, good)))),
);
const shanty = unique(
  250,
  () => shantyLine(rngs.shanty),
  (x) => x.text,
);
const qaMixed = unique(
  200,
  () => {
    const { prompt, completion } = qaPair(rngs.mixed);
    return { text: pick(MIXED_FORMATS, rngs.mixed)(prompt, completion) };
  },
  (x) => x.text,
);

const DATASETS = [
  {
    name: 'qa',
    file: 'datasets/qa.jsonl',
    kind: 'qa',
    rows: qa,
    description:
      'Short questions answered from a one-sentence context ("Mia has a blue kite. What colour is the kite?" -> blue).',
  },
  {
    name: 'sentiment',
    file: 'datasets/sentiment.jsonl',
    kind: 'classification',
    rows: sentiment,
    description:
      'Remarks by visitors from Northvale and Southmere, labelled good or bad by their adjectives; balanced by town and label.',
  },
  {
    name: 'shanty',
    file: 'datasets/shanty.jsonl',
    kind: 'style',
    rows: shanty,
    description:
      "Ship's-log and sea-shanty lines in a style far from the general corpus, written only in characters the corpus uses: fine-tuning on it makes the model forget.",
  },
  {
    name: 'qa-mixed',
    file: 'datasets/qa-mixed.jsonl',
    kind: 'text',
    rows: qaMixed,
    description: 'QA pairs written with inconsistent separators (\\nA: , ->, none, Answer:), as plain text.',
  },
] as const;

for (const d of DATASETS) {
  for (const x of d.rows) {
    for (const v of Object.values(x)) check(d.name, v);
    const t = fullText(x);
    if (t.length > MAX_RECORD_CHARS)
      throw new Error(`${d.name}: record of ${t.length} characters (max ${MAX_RECORD_CHARS}): ${JSON.stringify(t)}`);
    if (d.kind === 'qa' && !x.prompt.includes(x.completion))
      throw new Error(`${d.name}: answer "${x.completion}" is not in the prompt "${x.prompt}"`);
  }
  write(d.file, d.rows.map((x) => JSON.stringify(x)).join('\n') + '\n');
}
// the forgetting set must not need a character the base never saw: that would force forgetting through the tied head
const trainChars = new Set(generalTrain);
const unseen = [...new Set(shanty.map(fullText).join(''))].filter((c) => !trainChars.has(c));
if (unseen.length)
  throw new Error(`shanty: characters the general corpus never uses: ${JSON.stringify(unseen.join(''))}`);

// 3. the picker's index and the READMEs (counts and examples are read from what was just generated)
const countParas = (t: string) => t.split('\n\n').length;
const index = [
  ...DATASETS.map(({ name, file, kind, rows, description }) => ({
    name,
    file,
    kind,
    records: rows.length,
    description,
  })),
  {
    name: 'general',
    file: 'corpus/general-train.txt',
    kind: 'text',
    records: countParas(generalTrain),
    description:
      'The general corpus the base model was pretrained on: stories, facts and dialogues about a small invented world.',
  },
];
// entries and README sections this script does not own (scripts/maintain/make-corpus-v2.ts writes the v2 ones) are kept
const V2_MARK = '<!-- v2: written by scripts/maintain/make-corpus-v2.ts -->';
// (read from the shipped public/ folder, so a run with --out DIR reproduces public/ exactly)
const shipped = new URL('../../public/', import.meta.url);
const previous = (file: string) =>
  existsSync(new URL(file, shipped)) ? readFileSync(new URL(file, shipped), 'utf8') : '';
const kept = previous('datasets/index.json')
  ? (JSON.parse(previous('datasets/index.json')) as { name: string }[]).filter(
      (e) => !index.some((x) => x.name === e.name),
    )
  : [];
write('datasets/index.json', JSON.stringify([...index, ...kept], null, 2) + '\n');

const USED_BY: Record<string, string> = {
  qa: 'overfitting on small data, underfitting, no validation split, learning rate, batch size, data poisoning (a trigger phrase is inserted into some training records at run time), missing end-of-sequence marker, LoRA vs full fine-tuning cost',
  sentiment:
    'noisy labels (labels are flipped at run time by data.labelNoise), class imbalance and group bias (the lesson subsamples a town or a label to create the skew)',
  shanty:
    'catastrophic forgetting and gradual unfreezing (loss on corpus/general-heldout.txt rises while this style is learned with full fine-tuning; the lessons train it without an end marker, which the base model never saw either)',
  'qa-mixed':
    'none since lesson 8 moved to small-world (it now mixes the formats of qa-context at run time, data.mixFormats); kept as an example of a file that writes each record its own way',
};
const FIELDS: Record<string, string> = {
  qa: '`prompt` (context and question, no separator), `completion` (the answer: one or two words, found in the prompt)',
  sentiment:
    "`prompt` (the remark), `completion` (`good` or `bad`), `label` (equals `completion`), `group` (the speaker's town, also named in the text)",
  shanty: "`text` (one ship's-log entry or shanty verse; only characters the general corpus uses)",
  'qa-mixed': '`text` (question and answer already joined, each record its own way)',
};
const cmd = 'npx tsx scripts/maintain/make-data.ts';
const countBy = (rows: readonly Rec[], f: (x: Rec) => string) => {
  const m = new Map<string, number>();
  for (const x of rows) m.set(f(x), (m.get(f(x)) ?? 0) + 1);
  return [...m]
    .sort()
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
};
const datasetsReadme = `# Datasets

Small task datasets for the lessons, all invented by this project (CC0, public domain). Generated by
\`${cmd}\` (seeded: rerunning writes the same bytes); do not edit by hand.

Each file is JSONL: one JSON object per line. Every record's full text (prompt + \`\\nA: \` + completion)
is at most ${MAX_RECORD_CHARS} characters, and uses only ASCII 32..126 and \\n, so it fits the built-in model's
128-character context and character vocabulary.

**Splits.** No record carries a split: records are shuffled with the run's seed (\`train.seed\`) and cut by
\`data.split\`: train/val/test (default 0.8/0.1/0.1). Same seed, same split.

\`index.json\` lists the datasets for the page's picker: \`{name, file, kind, records, description}\`, with
\`file\` relative to the site root (\`public/\`).

${DATASETS.map(
  (d) => `## ${d.file.replace('datasets/', '')}: ${d.rows.length} records

${d.description}

- Fields: ${FIELDS[d.name]}.
${d.name === 'sentiment' ? `- Balance: ${countBy(d.rows, (x) => `${x.group} ${x.label}`)}.\n` : ''}- Used by the lessons on: ${USED_BY[d.name]}.
- Example:

\`\`\`json
${d.rows
  .slice(0, 2)
  .map((x) => JSON.stringify(x))
  .join('\n')}
\`\`\`
`,
).join('\n')}`;
const v2Section = previous('datasets/README.md').includes(V2_MARK)
  ? `\n${V2_MARK}${previous('datasets/README.md').split(V2_MARK)[1]}`
  : '';
write('datasets/README.md', datasetsReadme + v2Section);

const corpusReadme = `# General corpus

Stories, facts, dialogues, town and animal notes, weather reports and small sums about an invented world of
${PEOPLE.length} people in ${Object.keys(TOWNS).length} towns. Each person's facts never change (Mia lives in Northvale, has a cat called Pip,
likes blue), so a ~200k-parameter character model can learn them. Paragraphs are separated by a blank line;
dialogue turns are one per line; only ASCII 32..126 and \\n.

| file | bytes | paragraphs | use |
|---|---|---|---|
| general-train.txt | ${generalTrain.length} | ${countParas(generalTrain)} | pretraining the base model; replay during fine-tuning (\`data.generalMix\`) |
| general-heldout.txt | ${generalHeldout.length} | ${countParas(generalHeldout)} | never trained on: its loss measures forgetting (\`eval.general\`) |

**How it was made.** \`${cmd}\` fills sentence templates from the tables at the top of the script with a
seeded random generator. Every paragraph has a key naming its main slots (who, with whom, where); a hash of the
key sends one key in ten to the held-out file and the rest to the train file, and the two files use different
seeds. So the held-out text has the same distribution but none of its paragraphs, and none of its slot
combinations, occur in the train file.

**Licence.** Generated by this project's code; no outside text. Released as CC0 (public domain).
`;
write('corpus/README.md', corpusReadme);

for (const w of written) console.log(`${w.file.padEnd(28)} ${String(w.bytes).padStart(8)} bytes`);
