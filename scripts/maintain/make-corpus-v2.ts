// Writes the v2 text: the "small-world" pretraining corpus (public/corpus/small-world/) and the v2 task
// datasets (public/datasets/qa-context.jsonl, reviews-skewed.jsonl, telegram.jsonl), their README sections and
// index.json entries. All text comes from the templates below. Run: npx tsx scripts/maintain/make-corpus-v2.ts
// Seeded: every run writes the same bytes. Documents are separated by a blank line; pretraining puts <eos> there.

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from '../../src/core/rng';
import { a, cap, fnv1a, list, otherThan, their, them, they } from './text-gen';

// ---------------------------------------------------------------- the world ----------------------------------
// Each resident's facts are fixed, so the corpus never contradicts itself (Mia always lives in Northvale).
type Person = {
  name: string;
  he: boolean;
  town: string;
  job: string;
  pet: string;
  petName: string;
  colour: string;
  food: string;
  age: number;
};
const TOWNS: Record<string, { what: string; landmark: string; weather: string }> = {
  Northvale: { what: 'a cold town in the hills', landmark: 'old tower', weather: 'snowy' },
  Southmere: { what: 'a warm town by a wide lake', landmark: 'lake', weather: 'sunny' },
  Eastbrook: { what: 'a busy town on a fast river', landmark: 'stone bridge', weather: 'rainy' },
  Westwick: { what: 'a small port by the sea', landmark: 'harbour', weather: 'windy' },
  Highfield: { what: 'a quiet town among the farms', landmark: 'big barn', weather: 'cloudy' },
  Lowmoor: { what: 'a damp town at the edge of the marsh', landmark: 'marsh', weather: 'foggy' },
  Redcliff: { what: 'a mining town under red rocks', landmark: 'red cliffs', weather: 'dry' },
  Ashford: { what: 'a market town on the old road', landmark: 'clock', weather: 'mild' },
};
const TOWN_NAMES = Object.keys(TOWNS);
const NAMES_F = [
  'Mia',
  'Ada',
  'Lila',
  'Nora',
  'Rosa',
  'Ivy',
  'Zoe',
  'Ruby',
  'Tess',
  'Anna',
  'Lucy',
  'Maya',
  'Pia',
  'Elsa',
  'Iris',
  'Clara',
  'Jane',
  'Beth',
  'Cora',
  'Edith',
  'Fay',
  'Gwen',
  'Hazel',
  'Jill',
  'Kate',
  'Lena',
  'Mabel',
  'Nell',
  'Olive',
  'Polly',
  'Una',
  'Vera',
  'Queenie',
];
const NAMES_M = [
  'Tom',
  'Ben',
  'Sam',
  'Finn',
  'Leo',
  'Max',
  'Eli',
  'Owen',
  'Hugo',
  'Jack',
  'Kai',
  'Otto',
  'Noah',
  'Theo',
  'Jonas',
  'Felix',
  'Alfie',
  'Bert',
  'Carl',
  'Dan',
  'Ezra',
  'Fred',
  'Gus',
  'Hal',
  'Ivan',
  'Joe',
  'Ken',
  'Luke',
  'Ned',
  'Paul',
  'Xavier',
  'Yusuf',
  'Walt',
];
const JOBS: Record<string, string> = {
  baker: 'bakes bread',
  fisher: 'catches fish',
  teacher: 'teaches children',
  sailor: 'sails the ships',
  farmer: 'grows food',
  miller: 'grinds flour',
  librarian: 'looks after books',
  smith: 'makes tools',
  painter: 'paints pictures',
  cook: 'cooks meals',
  weaver: 'weaves cloth',
  builder: 'builds houses',
  doctor: 'helps sick people',
  gardener: 'grows flowers',
  potter: 'makes pots',
  singer: 'sings songs',
  tailor: 'sews clothes',
  miner: 'digs for stone',
  carter: 'drives the cart',
  shopkeeper: 'runs the shop',
};
// animal -> sound, food, habit
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
  parrot: ['hello', 'seeds', 'copy what people say'],
  mouse: ['squeak', 'cheese', 'hide in the wall'],
};
const PET_NAMES = [
  'Pip',
  'Rex',
  'Moss',
  'Dot',
  'Fern',
  'Puddle',
  'Hoot',
  'Storm',
  'Biscuit',
  'Shadow',
  'Cloud',
  'Button',
  'Blaze',
  'Clover',
  'Pepper',
  'Bramble',
  'Scout',
  'Twig',
  'Waddle',
  'Smudge',
  'Wool',
  'Pebble',
  'Rosie',
  'Speck',
  'Thumper',
  'Pickle',
  'Luna',
  'Copper',
  'Misty',
  'Splash',
  'Daisy',
  'Truffle',
  'Acorn',
  'Bean',
  'Coco',
  'Dusty',
  'Fudge',
  'Ginger',
  'Honey',
  'Jasper',
  'Kiwi',
  'Lolly',
  'Maple',
  'Nutmeg',
  'Oscar',
  'Poppy',
  'Rusty',
  'Sooty',
  'Tango',
  'Ziggy',
  'Bingo',
  'Cookie',
  'Dumpling',
  'Flash',
  'Gizmo',
  'Hopper',
  'Inky',
  'Jelly',
  'Noodle',
  'Pudding',
  'Quill',
  'Sprout',
  'Toffee',
  'Wiggles',
  'Yoyo',
  'Zest',
  'Marble',
  'Nibbles',
];
const COLOURS = [
  'red',
  'blue',
  'green',
  'yellow',
  'orange',
  'purple',
  'pink',
  'brown',
  'grey',
  'white',
  'black',
  'gold',
];
const FOODS = [
  'apples',
  'pears',
  'plums',
  'cakes',
  'eggs',
  'carrots',
  'nuts',
  'buns',
  'figs',
  'lemons',
  'soup',
  'bread',
  'cheese',
  'honey',
  'fish',
  'pies',
];
const COUNTABLE = ['apples', 'pears', 'plums', 'cakes', 'eggs', 'carrots', 'nuts', 'buns', 'figs', 'lemons', 'pies'];
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
  'key',
  'rope',
  'map',
  'jar',
  'spoon',
  'bucket',
  'chair',
  'clock',
  'shoe',
];
const PLACES = [
  'market',
  'bakery',
  'mill',
  'bridge',
  'school',
  'library',
  'garden',
  'well',
  'square',
  'inn',
  'harbour',
  'farm',
  'forge',
  'chapel',
  'orchard',
  'station',
];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const NUM_WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
];
const WEATHER: Record<string, string[]> = {
  sunny: ['The sun was warm and bright.', 'There was not a cloud in the sky.'],
  rainy: ['Rain fell on the roofs.', 'The roads were wet and full of puddles.'],
  windy: ['The wind blew hard.', 'The trees bent in the wind.'],
  foggy: ['A thick fog lay over the town.', 'Nobody could see far in the fog.'],
  snowy: ['Snow covered the roofs.', 'The roads were white with snow.'],
  cloudy: ['The sky was grey.', 'Big clouds moved over the hills.'],
  dry: ['The ground was dry and dusty.', 'No rain had fallen for weeks.'],
  mild: ['The air was soft and mild.', 'It was neither hot nor cold.'],
  stormy: ['Thunder rolled over the hills.', 'A storm shook the windows.'],
};

const world = new Rng(100); // the world's fixed facts
function makePeople(): Person[] {
  const jobs = Object.keys(JOBS),
    pets = Object.keys(ANIMALS),
    petNames = world.shuffle([...PET_NAMES]);
  const names = [...NAMES_F.map((n) => [n, false] as const), ...NAMES_M.map((n) => [n, true] as const)];
  return names.map(([name, he], i) => ({
    name,
    he,
    town: TOWN_NAMES[i % TOWN_NAMES.length],
    job: jobs[world.int(jobs.length)],
    pet: pets[world.int(pets.length)],
    petName: petNames[i],
    colour: COLOURS[world.int(COLOURS.length)],
    food: FOODS[world.int(FOODS.length)],
    age: 8 + world.int(70),
  }));
}
const PEOPLE = makePeople();
if (PEOPLE.some((p) => !p.petName)) throw new Error('PET_NAMES needs one name per person');
// miles between towns along the road (a fixed, symmetric table)
const MILES = new Map<string, number>();
for (const a of TOWN_NAMES) for (const b of TOWN_NAMES) if (a < b) MILES.set(`${a}|${b}`, 3 + world.int(28));
const miles = (a: string, b: string) => MILES.get(a < b ? `${a}|${b}` : `${b}|${a}`)!;

// ---------------------------------------------------------------- helpers ------------------------------------
let r = new Rng(1); // the generator templates draw from; switched per output file
const pick = <T>(xs: readonly T[], g: Rng = r): T => xs[g.int(xs.length)];
const chance = (p: number, g: Rng = r) => g.next() < p;
const plural = (animal: string) => (animal === 'sheep' ? 'sheep' : animal === 'mouse' ? 'mice' : `${animal}s`);
const one = (food: string) =>
  food.endsWith('ies') ? food.slice(0, -1) : food.endsWith('s') ? food.slice(0, -1) : food;
/** "3 apples" or "three apples", "1 apple"/"one apple". */
const count = (n: number, food: string, digits = chance(0.5)) =>
  `${digits || n > 12 ? n : NUM_WORDS[n]} ${n === 1 ? one(food) : food}`;
const other = (p: Person, g: Rng = r): Person => otherThan(p, PEOPLE, (xs) => pick(xs, g));
type Doc = { key: string; text: string };

// ---------------------------------------------------------------- documents ----------------------------------
/** Stories with a plot: a problem, an attempt, a turn and an ending; every fact agrees with the world. */
function story(): Doc {
  const hero = pick(PEOPLE),
    friend = other(hero);
  const T = TOWNS[hero.town];
  const weather = chance(0.5) ? T.weather : pick(Object.keys(WEATHER));
  const day = pick(DAYS);
  const s: string[] = [
    pick([
      `One ${weather} ${day}, ${hero.name} woke up early.`,
      `It was a ${weather} ${day} in ${hero.town}.`,
      `On ${day} morning, ${hero.name} looked out of the window.`,
    ]),
    pick(WEATHER[weather]),
  ];
  const plot = r.int(5);
  if (plot === 0) {
    const places = r.shuffle([...PLACES]).slice(0, 3);
    s.push(
      `${hero.name} could not find ${their(hero)} ${hero.pet}, ${hero.petName}.`,
      `${cap(they(hero))} looked by the ${places[0]} and then at the ${places[1]}, but ${hero.petName} was not there.`,
    );
    s.push(
      pick([
        `${cap(they(hero))} asked ${friend.name} for help.`,
        `${friend.name}, who is ${a(friend.job)}, said ${they(friend)} would help.`,
      ]),
    );
    s.push(
      `At last ${friend.name} found ${hero.petName} at the ${places[2]}.`,
      pick([
        `${hero.petName} had only wanted to ${ANIMALS[hero.pet][2]}.`,
        `${hero.petName} was hungry and wanted some ${ANIMALS[hero.pet][1]}.`,
      ]),
    );
    s.push(
      pick([
        `${hero.name} thanked ${friend.name} and gave ${them(friend)} some ${hero.food}.`,
        `${hero.name} was so happy that ${they(hero)} laughed.`,
      ]),
    );
  } else if (plot === 1) {
    const obj = pick(OBJECTS);
    s.push(`${cap(their(hero))} ${obj} was broken.`, `${cap(they(hero))} could not mend it alone.`);
    s.push(`So ${they(hero)} took it to ${friend.name}, who lives in ${friend.town} and ${JOBS[friend.job]}.`);
    s.push(
      pick([
        `${friend.name} worked on it for ${2 + r.int(5)} hours.`,
        `${friend.name} needed ${count(2 + r.int(4), 'nails', true)} and some glue.`,
      ]),
      `By the evening the ${obj} was as good as new.`,
    );
    s.push(`${hero.name} paid ${3 + r.int(9)} coins and went home.`);
  } else if (plot === 2) {
    const far = miles(hero.town, friend.town);
    if (hero.town === friend.town) return story();
    s.push(
      `${hero.name} wanted to visit ${friend.name} in ${friend.town}.`,
      `It is ${far} miles from ${hero.town} to ${friend.town}.`,
    );
    const h = Math.max(1, Math.round(far / 4));
    s.push(
      pick([
        `${cap(they(hero))} walked for ${h} hour${h === 1 ? '' : 's'}.`,
        `${cap(they(hero))} rode with the carter, and the trip took ${h} hour${h === 1 ? '' : 's'}.`,
      ]),
    );
    if (chance(0.5)) s.push(`On the way, ${they(hero)} passed the ${TOWNS[friend.town].landmark}.`);
    s.push(
      `${friend.name} was glad to see ${them(hero)}.`,
      pick([
        `They ate ${friend.food} together and talked until dark.`,
        `They went to the ${pick(PLACES)} and sat in the sun.`,
      ]),
    );
  } else if (plot === 3) {
    const food = pick(COUNTABLE);
    const n = 6 + r.int(10),
      sold = 1 + r.int(n - 3),
      gave = 1 + r.int(n - sold - 1);
    s.push(
      `${hero.name} took ${count(n, food)} to the market.`,
      `${cap(they(hero))} sold ${sold} and gave ${gave} to ${friend.name}.`,
    );
    s.push(
      `So ${they(hero)} came home with ${count(n - sold - gave, food)}.`,
      pick([`${cap(they(hero))} had ${sold * 2} coins in ${their(hero)} bag.`, `It had been a busy day.`]),
    );
  } else {
    const storm = pick(['storm', 'flood', 'fire in the barn', 'cold night']);
    s.push(`That night there was a ${storm} in ${hero.town}.`, `${hero.name} was worried about ${hero.petName}.`);
    s.push(
      pick([
        `${cap(they(hero))} ran out with a lamp and brought ${hero.petName} inside.`,
        `${friend.name} came to help, and together they kept ${hero.petName} safe.`,
      ]),
    );
    s.push(
      `In the morning the sky was clear again.`,
      `Everyone in ${hero.town} said it was the worst ${storm} in ${5 + r.int(40)} years.`,
    );
  }
  s.push(
    pick([
      `It was a good day.`,
      `${hero.name} went to bed early that night.`,
      `The end.`,
      `${hero.name} will remember that ${day} for a long time.`,
    ]),
  );
  return { key: `story|${hero.name}|${friend.name}|${plot}`, text: s.join(' ') };
}

/** Two people talk, one turn per line; every answer agrees with the speaker's facts. */
function dialogue(): Doc {
  const x = pick(PEOPLE),
    y = other(x);
  const topics = r
    .shuffle(['pet', 'colour', 'home', 'job', 'food', 'weather', 'age', 'plan', 'trip'])
    .slice(0, 2 + r.int(3));
  const lines = [
    `"${pick(['Hello', 'Good morning', 'Good evening', 'Hi'])}, ${y.name}," said ${x.name}.`,
    `"${pick(['Hello', 'Hi', 'Good day'])}, ${x.name}! How are you?" asked ${y.name}.`,
    `"${pick(['Very well, thank you', 'Not bad', 'A little tired', 'Happy, thanks'])}," said ${x.name}.`,
  ];
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
        `"I live in ${ans.town}. It is ${TOWNS[ans.town].what}," said ${ans.name}.`,
      );
    if (t === 'job')
      lines.push(
        `"What do you do?" asked ${ask.name}.`,
        `"I am ${a(ans.job)}. I ${JOBS[ans.job].replace(/^(\w+?)(es|s) /, (m, v: string, e: string) => (e === 'es' && /(ch|sh|s)$/.test(v) ? v : v + (e === 'es' ? 'e' : '')) + ' ')}," said ${ans.name}.`,
      );
    if (t === 'food')
      lines.push(`"Are you hungry?" asked ${ask.name}.`, `"Yes! I would like some ${ans.food}," said ${ans.name}.`);
    if (t === 'weather')
      lines.push(
        `"What is the weather like in ${ans.town}?" asked ${ask.name}.`,
        `"It is often ${TOWNS[ans.town].weather} there," said ${ans.name}.`,
      );
    if (t === 'age')
      lines.push(`"How old are you?" asked ${ask.name}.`, `"I am ${ans.age} years old," said ${ans.name}.`);
    if (t === 'plan')
      lines.push(
        `"Where are you going?" asked ${ask.name}.`,
        `"I am going to the ${pick(PLACES)} with ${ans.petName}," said ${ans.name}.`,
      );
    if (t === 'trip' && ask.town !== ans.town)
      lines.push(
        `"How far is it to ${ans.town}?" asked ${ask.name}.`,
        `"It is ${miles(ask.town, ans.town)} miles from ${ask.town}," said ${ans.name}.`,
      );
  }
  lines.push(
    pick([
      `"Goodbye, ${y.name}," said ${x.name}.`,
      `"See you soon!" said ${y.name}.`,
      `Then ${x.name} and ${y.name} went home.`,
    ]),
  );
  return { key: `dialogue|${x.name}|${y.name}|${topics.join(',')}`, text: lines.join('\n') };
}

function facts(): Doc {
  const p = pick(PEOPLE);
  const all = [
    pick([`${cap(they(p))} lives in ${p.town}.`, `${cap(their(p))} home is in ${p.town}, ${TOWNS[p.town].what}.`]),
    pick([
      `${cap(they(p))} has ${a(p.pet)} called ${p.petName}.`,
      `${cap(their(p))} pet is ${a(p.pet)} named ${p.petName}.`,
    ]),
    pick([`${cap(their(p))} favourite colour is ${p.colour}.`, `${cap(they(p))} likes the colour ${p.colour}.`]),
    pick([`${cap(they(p))} is ${a(p.job)}.`, `${cap(they(p))} works as ${a(p.job)} and ${JOBS[p.job]}.`]),
    pick([`${cap(their(p))} favourite food is ${p.food}.`, `${cap(they(p))} likes to eat ${p.food}.`]),
    pick([`${cap(they(p))} is ${p.age} years old.`, `${cap(they(p))} is ${p.age}.`]),
  ];
  const order = r.shuffle([0, 1, 2, 3, 4, 5]).slice(0, 3 + r.int(4));
  return {
    key: `facts|${p.name}|${order.join('')}`,
    text: [`This is ${p.name}.`, ...order.map((i) => all[i])].join(' '),
  };
}

function town(): Doc {
  const name = pick(TOWN_NAMES),
    T = TOWNS[name];
  const folk = r.shuffle(PEOPLE.filter((p) => p.town === name)).slice(0, 2 + r.int(3));
  const places = r.shuffle([...PLACES]).slice(0, 2);
  const near = r.shuffle(TOWN_NAMES.filter((t) => t !== name))[0];
  const s = [`${name} is ${T.what}.`, `${list(folk.map((p) => p.name))} live there.`];
  s.push(
    pick([
      `There is ${a(places[0])} and ${a(places[1])} near the ${T.landmark}.`,
      `People like to meet by the ${T.landmark}.`,
    ]),
  );
  s.push(pick([`It is often ${T.weather} in ${name}.`, `The weather there is usually ${T.weather}.`]));
  s.push(`${name} is ${miles(name, near)} miles from ${near}.`);
  return { key: `town|${name}|${folk.map((p) => p.name).join(',')}|${near}`, text: s.join(' ') };
}

/** Lists: shopping lists, inventories, rosters; one item per line with "- " or numbered "1." items. */
function listDoc(): Doc {
  const p = pick(PEOPLE);
  const kind = r.int(3);
  if (kind === 0) {
    const items = r
      .shuffle([...COUNTABLE])
      .slice(0, 2 + r.int(4))
      .map((f) => `- ${count(1 + r.int(9), f, true)}`);
    return { key: `list|shop|${p.name}|${items.join()}`, text: [`Shopping list for ${p.name}:`, ...items].join('\n') };
  }
  if (kind === 1) {
    const items = r.shuffle([...OBJECTS]).slice(0, 3 + r.int(3));
    return {
      key: `list|box|${p.name}|${items.join()}`,
      text: `In ${p.name}'s ${pick(['box', 'bag', 'basket', 'cupboard'])} there ${items.length > 1 ? 'are' : 'is'} ${list(items.map((o) => a(o)))}. That makes ${NUM_WORDS[items.length]} things.`,
    };
  }
  const t = pick(TOWN_NAMES);
  const folk = PEOPLE.filter((q) => q.town === t);
  return {
    key: `list|roster|${t}`,
    text: [`People who live in ${t}:`, ...folk.map((q, i) => `${i + 1}. ${q.name}, the ${q.job}`)].join('\n'),
  };
}

/** Numbers: sums, counting, prices, ages. Arithmetic is always right. */
function numbers(): Doc {
  const k = r.int(4);
  if (k === 0) {
    const sums = Array.from({ length: 3 + r.int(3) }, () => {
      const x = r.int(20),
        y = r.int(20);
      return chance(0.7)
        ? `${x} + ${y} = ${x + y}`
        : `${Math.max(x, y)} - ${Math.min(x, y)} = ${Math.max(x, y) - Math.min(x, y)}`;
    });
    return {
      key: `sums|${sums.join()}`,
      text: [pick(['Sums for the school:', 'Ada wrote some sums on the board:', 'Practice:']), ...sums].join('\n'),
    };
  }
  if (k === 1) {
    const start = 1 + r.int(10),
      n = 4 + r.int(5),
      step = pick([1, 2, 5, 10]);
    const seq = Array.from({ length: n }, (_, i) => start + i * step);
    const p = pick(PEOPLE);
    return {
      key: `count|${start}|${n}|${step}|${p.name}`,
      text: `${p.name} counted the ${pick(['boats', 'sheep', 'birds', 'steps', 'stars', 'carts'])} by ${step === 1 ? 'ones' : NUM_WORDS[step] + 's'}: ${seq.join(', ')}.`,
    };
  }
  if (k === 2) {
    const f = pick(COUNTABLE),
      n = 2 + r.int(9),
      price = 1 + r.int(5),
      p = pick(PEOPLE);
    return {
      key: `price|${p.name}|${f}|${n}|${price}`,
      text: `At the market, ${one(f)}s cost ${price} coin${price > 1 ? 's' : ''} each. ${p.name} bought ${n}, so ${they(p)} paid ${n * price} coins.`.replace(
        `${one(f)}s cost`,
        `${f} cost`,
      ),
    };
  }
  const p = pick(PEOPLE),
    q = other(p);
  const older = p.age >= q.age ? p : q;
  return {
    key: `age|${p.name}|${q.name}`,
    text: `${p.name} is ${p.age} and ${q.name} is ${q.age}. ${p.age === q.age ? 'They are the same age.' : `${older.name} is ${Math.abs(p.age - q.age)} years older.`}`,
  };
}

/** Notes, signs and letters: the punctuation the datasets use (' / ~ ! ? : ; - digits) in ordinary text. */
function note(): Doc {
  const p = pick(PEOPLE),
    q = other(p);
  const k = r.int(4);
  if (k === 0)
    return {
      key: `sign|${p.name}|${p.job}`,
      text: `Sign on the door: ${cap(p.job)} ~ ${p.name} ~ open ${7 + r.int(3)} to ${4 + r.int(3)} ~ closed on ${pick(DAYS)}s!`,
    };
  if (k === 1)
    return {
      key: `letter|${p.name}|${q.name}`,
      text: `Dear ${q.name},\nI am writing from ${p.town}. ${pick(WEATHER[TOWNS[p.town].weather])} ${p.petName} says hello! Please come on ${pick(DAYS)}; bring your ${pick(OBJECTS)}.\nYours, ${p.name}`,
    };
  if (k === 2) {
    const d = 1 + r.int(28),
      m = 1 + r.int(12);
    return {
      key: `diary|${p.name}|${d}|${m}`,
      text: `${p.name}'s diary, ${d}/${m}: ${pick(['We', 'I'])} ${pick(['fed the ducks', 'painted the fence', 'baked a pie', 'read a book', 'mended a coat', 'walked to the mill'])}. ${pick(['Good day!', 'Tired now.', 'Rain again?', "Can't wait for tomorrow!"])}`,
    };
  }
  return {
    key: `notice|${p.town}|${p.name}`,
    text: `NOTICE: the ${pick(PLACES)} in ${p.town} will be shut on ${pick(DAYS)}. Ask ${p.name} (the ${p.job}) if you need anything - thank you!`,
  };
}

/**
 * Questions answered from a context, in several formats: one to four in a document, all in one format, each with
 * its own context. In the "\nA: " format the answer is a full sentence. No context of the qa-context dataset is used.
 */
function qaDoc(): Doc {
  const f = r.int(5);
  const items: string[] = [];
  let key = '';
  for (let k = 1 + r.int(4); items.length < k;) {
    const { context, question, short, sentence } = qaItem(r);
    if (qaBanned.has(context)) continue;
    if (!key) key = `qa|${context}|${question}`;
    items.push(
      [
        `${context} ${question}\nA: ${sentence}`,
        `${context}\nQ: ${question}\nA: ${sentence}`,
        `${context} ${question}\nAnswer: ${short}`,
        `Question: ${context} ${question} -> ${short}`,
        `${context} ${question} The answer is ${short}.`,
      ][f],
    );
  }
  return { key, text: items.join('\n') };
}

/**
 * Lookups (v3): two to five facts with bindings drawn anew for every document (nothing here is a resident's fixed
 * fact), then one to three questions, asked both ways: the value of a key written before it ("Where does Kai
 * live?") and the key of a value ("Who lives in Ashford?", the answer written before what is asked). Reading the
 * context is the only way to answer, which is the skill the QA lessons need. Same five formats as qaDoc.
 */
function lookupDoc(): Doc {
  const f = r.int(5);
  const n = 2 + r.int(4);
  const rel = lookupRelation(r, n);
  if (rel.banned) return lookupDoc(); // never a qa-context context, not even as the end of a longer list
  const qs = r.shuffle(rel.questions).slice(0, 1 + r.int(3));
  const lines = qs.map(({ question, short, sentence }, i) => {
    const ctx = i === 0 ? `${rel.context} ` : '';
    return [
      `${ctx}${question}\nA: ${sentence}`,
      `${i === 0 ? `${rel.context}\n` : ''}Q: ${question}\nA: ${sentence}`,
      `${ctx}${question}\nAnswer: ${short}`,
      `${i === 0 ? 'Question: ' : ''}${ctx}${question} -> ${short}`,
      `${ctx}${question} The answer is ${short}.`,
    ][f];
  });
  return { key: `lookup|${rel.context}`, text: lines.join('\n') };
}

type Lookup = { question: string; short: string; sentence: string };
/** n facts of one kind with fresh bindings, and a forward and a backward question about each. */
function lookupRelation(g: Rng, n: number): { context: string; questions: Lookup[]; banned: boolean } {
  const who = g.shuffle([...NAMES_F, ...NAMES_M]).slice(0, n);
  const draw = <T>(xs: readonly T[]) => g.shuffle([...xs]).slice(0, n);
  const qs: Lookup[] = [];
  const facts: string[] = [];
  switch (g.int(8)) {
    case 0: {
      const jobs = draw(Object.keys(JOBS));
      who.forEach((x, i) => {
        facts.push(`${x} is ${a(jobs[i])}`);
        qs.push({ question: `Who is the ${jobs[i]}?`, short: x, sentence: `${x} is the ${jobs[i]}.` });
        qs.push({ question: `What is ${x}'s job?`, short: jobs[i], sentence: `${x} is ${a(jobs[i])}.` });
      });
      break;
    }
    case 1: {
      const objs = draw(OBJECTS);
      who.forEach((x, i) => {
        facts.push(`${x} has ${a(objs[i])}`);
        qs.push({ question: `Who has the ${objs[i]}?`, short: x, sentence: `${x} has the ${objs[i]}.` });
        qs.push({ question: `What does ${x} have?`, short: a(objs[i]), sentence: `${x} has ${a(objs[i])}.` });
      });
      break;
    }
    case 2: {
      const places = draw(PLACES);
      who.forEach((x, i) => {
        facts.push(`${x} went to the ${places[i]}`);
        qs.push({
          question: `Where did ${x} go?`,
          short: `the ${places[i]}`,
          sentence: `${x} went to the ${places[i]}.`,
        });
        qs.push({ question: `Who went to the ${places[i]}?`, short: x, sentence: `${x} went to the ${places[i]}.` });
      });
      break;
    }
    case 3: {
      const towns = draw(TOWN_NAMES);
      who.forEach((x, i) => {
        facts.push(`${x} lives in ${towns[i]}`);
        qs.push({ question: `Where does ${x} live?`, short: towns[i], sentence: `${x} lives in ${towns[i]}.` });
        qs.push({ question: `Who lives in ${towns[i]}?`, short: x, sentence: `${x} lives in ${towns[i]}.` });
      });
      break;
    }
    case 4: {
      const kinds = draw(Object.keys(ANIMALS)),
        pets = draw(PET_NAMES);
      who.forEach((x, i) => {
        facts.push(`${x} has ${a(kinds[i])} called ${pets[i]}`);
        qs.push({ question: `What animal is ${pets[i]}?`, short: kinds[i], sentence: `${pets[i]} is ${a(kinds[i])}.` });
        qs.push({
          question: `What is ${x}'s ${kinds[i]} called?`,
          short: pets[i],
          sentence: `It is called ${pets[i]}.`,
        });
        qs.push({ question: `Whose pet is ${pets[i]}?`, short: x, sentence: `${pets[i]} is ${x}'s pet.` });
      });
      break;
    }
    case 5: {
      const objs = draw(OBJECTS),
        cols = draw(COLOURS);
      const x = who[0];
      objs.forEach((o, i) => {
        facts.push(i === 0 ? `${x} has ${a(cols[i])} ${o}` : `${a(cols[i])} ${o}`);
        qs.push({ question: `What colour is the ${o}?`, short: cols[i], sentence: `The ${o} is ${cols[i]}.` });
        qs.push({ question: `Which thing is ${cols[i]}?`, short: `the ${o}`, sentence: `The ${o} is ${cols[i]}.` });
      });
      break;
    }
    case 6: {
      const foods = draw(COUNTABLE),
        nums = draw([2, 3, 4, 5, 6, 7, 8, 9]);
      const x = who[0];
      foods.forEach((fd, i) => {
        facts.push(i === 0 ? `${x} has ${nums[i]} ${fd}` : `${nums[i]} ${fd}`);
        qs.push({
          question: `How many ${fd} does ${x} have?`,
          short: String(nums[i]),
          sentence: `${x} has ${nums[i]} ${fd}.`,
        });
        qs.push({ question: `What does ${x} have ${nums[i]} of?`, short: fd, sentence: `${x} has ${nums[i]} ${fd}.` });
      });
      break;
    }
    default: {
      const seats = draw([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      who.forEach((x, i) => {
        facts.push(`${x} sits in seat ${seats[i]}`);
        qs.push({
          question: `Which seat is ${x} in?`,
          short: String(seats[i]),
          sentence: `${x} sits in seat ${seats[i]}.`,
        });
        qs.push({ question: `Who sits in seat ${seats[i]}?`, short: x, sentence: `${x} sits in seat ${seats[i]}.` });
      });
    }
  }
  return { context: `${list(facts)}.`, questions: qs, banned: qaBanned.has(`${list(facts.slice(-2))}.`) };
}

/** Repeated spans (v3): a list, a code or a sentence written, then written again, so copying pays off. */
function repeatDoc(): Doc {
  const code = () =>
    Array.from({ length: 4 + r.int(5) }, () => 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'[r.int(34)]).join('');
  const names = () => r.shuffle([...NAMES_F, ...NAMES_M]).slice(0, 3 + r.int(5));
  let text: string;
  switch (r.int(5)) {
    case 0: {
      const xs = names().join(', ');
      text = `${pick(['Say these names back', 'Read the list again', 'Repeat after me'])}: ${xs}.\n${xs}.`;
      break;
    }
    case 1: {
      const c = code();
      text = `The code is ${c}. ${pick(['Write it down', 'Say it again', 'Check it'])}: ${c}.`;
      break;
    }
    case 2: {
      const xs = r
        .shuffle([...FOODS])
        .slice(0, 3 + r.int(4))
        .join(', ');
      text = `List: ${xs}.\nAgain: ${xs}.`;
      break;
    }
    case 3: {
      const xs = names();
      const order = xs.join(' ');
      text = `In line: ${order}. Once more: ${order}.`;
      break;
    }
    default: {
      const c = [code(), code()].join('-');
      const x = pick([...NAMES_F, ...NAMES_M]);
      text = `Ticket for ${x}: ${c}.\n${x} read out the ticket: ${c}.`;
    }
  }
  return { key: `repeat|${text}`, text };
}

// ---------------------------------------------------------------- QA items -----------------------------------
/** A context that mentions two of something, a question about one, its short answer and a full-sentence answer. */
function qaItem(g: Rng): { context: string; question: string; short: string; sentence: string } {
  const [x, y] = g.shuffle([...NAMES_F, ...NAMES_M]).slice(0, 2);
  const second = chance(0.5, g);
  const who = second ? y : x;
  switch (g.int(7)) {
    case 0: {
      const [o1, o2] = g.shuffle([...OBJECTS]),
        [c1, c2] = g.shuffle([...COLOURS]);
      const [o, c] = second ? [o2, c2] : [o1, c1];
      return {
        context: `${x} has ${a(c1)} ${o1} and ${a(c2)} ${o2}.`,
        question: `What colour is the ${o}?`,
        short: c,
        sentence: `The ${o} is ${c}.`,
      };
    }
    case 1: {
      const [o1, o2] = g.shuffle([...OBJECTS]);
      const o = second ? o2 : o1;
      return {
        context: `${x} has ${a(o1)} and ${y} has ${a(o2)}.`,
        question: `Who has the ${o}?`,
        short: who,
        sentence: `${who} has the ${o}.`,
      };
    }
    case 2: {
      const [p1, p2] = g.shuffle([...PLACES]);
      const p = second ? p2 : p1;
      return {
        context: `${x} went to the ${p1} and ${y} went to the ${p2}.`,
        question: `Where did ${who} go?`,
        short: `the ${p}`,
        sentence: `${who} went to the ${p}.`,
      };
    }
    case 3: {
      const [t1, t2] = g.shuffle([...TOWN_NAMES]);
      const t = second ? t2 : t1;
      return {
        context: `${x} lives in ${t1} and ${y} lives in ${t2}.`,
        question: `Where does ${who} live?`,
        short: t,
        sentence: `${who} lives in ${t}.`,
      };
    }
    case 4: {
      const [f1, f2] = g.shuffle([...COUNTABLE]),
        [n1, n2] = g.shuffle([2, 3, 4, 5, 6, 7, 8, 9]);
      const [f, n] = second ? [f2, n2] : [f1, n1];
      return {
        context: `${x} has ${n1} ${f1} and ${n2} ${f2}.`,
        question: `How many ${f} does ${x} have?`,
        short: String(n),
        sentence: `${x} has ${n} ${f}.`,
      };
    }
    case 5: {
      const [k1, k2] = g.shuffle(Object.keys(ANIMALS)),
        [n1, n2] = g.shuffle([...PET_NAMES]);
      const [k, n] = second ? [k2, n2] : [k1, n1];
      return {
        context: `${x} has ${a(k1)} called ${n1} and ${y} has ${a(k2)} called ${n2}.`,
        question: `What animal is ${n}?`,
        short: k,
        sentence: `${n} is ${a(k)}.`,
      };
    }
    default: {
      const [j1, j2] = g.shuffle(Object.keys(JOBS));
      const j = second ? j2 : j1;
      return {
        context: `${x} is ${a(j1)} and ${y} is ${a(j2)}.`,
        question: `Who is the ${j}?`,
        short: who,
        sentence: `${who} is the ${j}.`,
      };
    }
  }
}

// ---------------------------------------------------------------- the corpus ---------------------------------
// QA is about 45% of the characters: copying the asked-for item out of a context is the skill the QA lessons need
// The shipped mix (v2). `--v3` draws the v3 mix instead: lookups with fresh bindings, asked both ways, and repeated
// spans, so that reading the context pays off. v3 is an experiment (docs/LESSONS.md, "Reading the context"): with
// `--v3` the corpus files are written to --out-dir (default /tmp/corpus-v3), never over the shipped ones.
const V3 = process.argv.includes('--v3');
const MAKERS_V2: [() => Doc, number][] = [
  [story, 0.18],
  [dialogue, 0.12],
  [facts, 0.08],
  [town, 0.04],
  [listDoc, 0.08],
  [numbers, 0.08],
  [note, 0.06],
  [qaDoc, 0.36],
];
const MAKERS_V3: [() => Doc, number][] = [
  [story, 0.14],
  [dialogue, 0.1],
  [facts, 0.06],
  [town, 0.03],
  [listDoc, 0.06],
  [numbers, 0.06],
  [note, 0.05],
  [qaDoc, 0.16],
  [lookupDoc, 0.26],
  [repeatDoc, 0.08],
];
const MAKERS = V3 ? MAKERS_V3 : MAKERS_V2;
const splitSentences = (doc: string) =>
  doc
    .split(/\n|(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
const isHeldOutKey = (key: string) => fnv1a(key) % 10 === 0;

/** One document, drawn by weight from `makers` (whose weights add up to `total`). */
function drawDoc(makers = MAKERS, total = 1): Doc {
  let u = r.next() * total;
  for (const [make, w] of makers) if ((u -= w) < 0) return make();
  return makers[0][0]();
}

/** Documents whose keys fall on the wanted side of the hash split, until `chars` characters. */
function corpus(heldOut: boolean, chars: number, banned?: Set<string>): { docs: string[]; droppedSentences: number } {
  const docs: string[] = [];
  let n = 0,
    dropped = 0;
  while (n < chars) {
    const d = drawDoc();
    if (isHeldOutKey(d.key) !== heldOut) continue;
    // QA documents repeat their question templates, so without those sentences they would not read; QA is measured on qa-context instead
    if (heldOut && /^(qa|lookup|repeat)\|/.test(d.key)) continue;
    let text = d.text;
    if (banned) {
      // the held-out text shares no sentence with the training text: drop any sentence the training text has
      const keep = d.text
        .split('\n')
        .map((line) =>
          splitSentences(line)
            .filter((s) => !banned.has(s) || (dropped++, false))
            .join(' '),
        )
        .filter((l) => l.length > 0);
      if (keep.length === 0 || splitSentences(keep.join('\n')).length < 2) continue;
      text = keep.join('\n');
    }
    docs.push(text);
    n += text.length + 2;
  }
  return { docs, droppedSentences: dropped };
}

// ---------------------------------------------------------------- the v2 datasets ----------------------------
type Rec = Record<string, string>;
const MAX_RECORD_CHARS = 110;
const fullText = (x: Rec) => x.text ?? `${x.prompt}\nA: ${x.completion}`;

function unique(count: number, make: () => Rec, keyOf: (x: Rec) => string = (x) => x.prompt): Rec[] {
  const seen = new Set<string>();
  const out: Rec[] = [];
  for (let tries = 0; out.length < count; tries++) {
    if (tries > count * 50) throw new Error(`only ${out.length} distinct records, wanted ${count}`);
    const x = make();
    if (seen.has(keyOf(x)) || fullText(x).length > MAX_RECORD_CHARS) continue;
    seen.add(keyOf(x));
    out.push(x);
  }
  return out;
}

// reviews: the label is carried by the adjectives; the group (the speaker's town) is skewed against it on purpose
const REVIEW: [string[], string[], string[]][] = [
  [
    ['soup', 'bread', 'tea', 'pie', 'cake', 'stew'],
    ['fresh', 'tasty', 'sweet', 'delicious', 'warm'],
    ['stale', 'bland', 'burnt', 'sour', 'cold'],
  ],
  [
    ['inn', 'room', 'market', 'bath house', 'library', 'garden'],
    ['clean', 'cosy', 'bright', 'lovely', 'quiet'],
    ['dirty', 'damp', 'gloomy', 'smelly', 'noisy'],
  ],
  [
    ['innkeeper', 'baker', 'guide', 'ferryman', 'shopkeeper', 'cook'],
    ['kind', 'friendly', 'helpful', 'cheerful', 'polite'],
    ['rude', 'unfriendly', 'grumpy', 'unhelpful', 'lazy'],
  ],
  [
    ['fair', 'boat trip', 'concert', 'play', 'dance', 'parade'],
    ['wonderful', 'fun', 'exciting', 'great', 'merry'],
    ['boring', 'dull', 'awful', 'terrible', 'slow'],
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
const REVIEW_GROUPS = ['Redcliff', 'Ashford'];
/** Cell sizes of reviews-skewed: Redcliff mostly good, Ashford mostly bad (the documented group skew). */
const REVIEW_CELLS: [string, boolean, number][] = [
  ['Redcliff', true, 240],
  ['Redcliff', false, 60],
  ['Ashford', true, 60],
  ['Ashford', false, 240],
];

function review(g: Rng, group: string, good: boolean): Rec {
  const [subjects, goodWords, badWords] = pick(REVIEW, g);
  const [s1, s2] = g.shuffle([...subjects]);
  const [w1, w2] = g.shuffle([...(good ? goodWords : badWords)]);
  const remark = pick(
    [
      `the ${s1} was ${w1}.`,
      `the ${s1} was ${w1} and the ${s2} was ${w2}.`,
      `what ${a(w1)} ${s1}!`,
      `I found the ${s1} very ${w1}.`,
      `the ${s1} was ${w1}, and so was the ${s2}.`,
    ],
    g,
  );
  const label = good ? 'good' : 'bad';
  return {
    prompt: `${pick(SPEAKERS, g)} from ${group} ${pick(['said', 'wrote', 'told us'], g)}: ${remark}`,
    completion: label,
    label,
    group,
  };
}

// telegrams: a narrow style (capitals, STOP, no articles) for the forgetting lesson, in characters the base knows
function telegram(g: Rng): Rec {
  const p = pick(PEOPLE, g),
    q = other(p, g);
  const parts = [
    pick(
      [
        `ARRIVE ${q.town.toUpperCase()} ${pick(DAYS, g).toUpperCase()}`,
        `LEAVING ${p.town.toUpperCase()} AT ${1 + g.int(12)}`,
        `${pick(['ROAD', 'BRIDGE', 'HARBOUR', 'MILL'], g)} CLOSED`,
      ],
      g,
    ),
    pick(
      [
        `BRING ${pick(NUM_WORDS.slice(2, 10), g).toUpperCase()} ${pick(COUNTABLE, g).toUpperCase()}`,
        `${p.petName.toUpperCase()} WELL`,
        `WEATHER ${pick(Object.keys(WEATHER), g).toUpperCase()}`,
        `SEND ${2 + g.int(20)} COINS`,
      ],
      g,
    ),
    pick(['ALL WELL', 'REPLY SOON', 'DO NOT WORRY', 'LOVE TO ALL', 'URGENT'], g),
  ];
  return { prompt: `Telegram to ${q.name}:`, completion: `${parts.join(' STOP ')} STOP ${p.name.toUpperCase()}` };
}

// ---------------------------------------------------------------- build, check, write ------------------------
const root = new URL('../../public/', import.meta.url);
const written: { file: string; bytes: number }[] = [];
const outAtArg = process.argv.indexOf('--out-dir');
const outRoot = pathToFileURL(`${outAtArg > 0 ? process.argv[outAtArg + 1] : '/tmp/corpus-v3'}/`);
function write(file: string, text: string): void {
  const to = new URL(file, V3 ? outRoot : root);
  mkdirSync(new URL('.', to), { recursive: true });
  writeFileSync(to, text);
  written.push({ file, bytes: Buffer.byteLength(text) });
}
const ALLOWED = /^[\x20-\x7e\n]*$/;

const [rQa, rRev, rTel] = [new Rng(3), new Rng(4), new Rng(5)];
const qaContext = unique(600, () => {
  const it = qaItem(rQa);
  return { prompt: `${it.context} ${it.question}`, completion: it.short };
});
// the held-out questions must be new to the base model: the training corpus never uses a qa-context context
const qaBanned = new Set(qaContext.map((x) => x.prompt.slice(0, x.prompt.lastIndexOf('. ') + 1)));

r = new Rng(1);
const train = corpus(false, 5_000_000);
const trainText = train.docs.join('\n\n');
const trainSentences = new Set(train.docs.flatMap(splitSentences));
r = new Rng(2);
const heldout = corpus(true, 60_000, trainSentences);
const heldoutText = heldout.docs.join('\n\n');
for (const [n, t] of [
  ['train', trainText],
  ['heldout', heldoutText],
])
  if (!ALLOWED.test(t) || t.includes('\n\n\n'))
    throw new Error(`${n}: character outside ASCII 32..126 and \\n, or an empty document`);
if (train.docs.some((d) => d.includes('\n\n')) || heldout.docs.some((d) => d.includes('\n\n')))
  throw new Error('a document holds a blank line: blank lines separate documents');

// overlap, measured on what is written: sentences and whole lines of the held-out text found in the training text
const heldSentences = heldout.docs.flatMap(splitSentences);
const sharedSentences = heldSentences.filter((s) => trainSentences.has(s)).length;
if (sharedSentences > 0) throw new Error(`held-out text shares ${sharedSentences} sentences with the training text`);
const trainLines = new Set(trainText.split('\n'));
const heldLines = heldoutText.split('\n').filter((l) => l.length > 0);
const sharedLines = heldLines.filter((l) => trainLines.has(l)).length;

// the held-out questions must be new to the base model: no qa-context context occurs in the training corpus
const qaSeen = qaContext.filter((x) => trainText.includes(x.prompt.slice(0, x.prompt.lastIndexOf('. ') + 1))).length;
if (qaSeen > 0) throw new Error(`${qaSeen} qa-context contexts occur in the small-world training corpus`);
const reviews = rRev.shuffle(REVIEW_CELLS.flatMap(([group, good, n]) => unique(n, () => review(rRev, group, good))));
const telegrams = unique(
  300,
  () => telegram(rTel),
  (x) => x.prompt + x.completion,
);

const V2 = [
  {
    name: 'qa-context',
    file: 'datasets/qa-context.jsonl',
    kind: 'qa',
    rows: qaContext,
    description:
      'Questions answered from a two-fact context ("Mia has a red kite and a blue cup. What colour is the cup?" -> blue); made for the small-world model.',
    fields:
      '`prompt` (context and question, no separator), `completion` (the short answer, always a word or two found in the prompt; counts are digits)',
    notes:
      'The small-world corpus holds questions of these kinds too, but after `\\nA: ` it always answers with a full sentence ("The cup is blue."): fine-tuning teaches the short-answer format, the base model scores near zero exact match. No record\'s context occurs in the corpus (checked by the script).',
  },
  {
    name: 'reviews-skewed',
    file: 'datasets/reviews-skewed.jsonl',
    kind: 'classification',
    rows: reviews,
    description:
      'Remarks by visitors from Redcliff and Ashford labelled good or bad by their adjectives; Redcliff is 80% good and Ashford 80% bad (a real group skew).',
    fields:
      "`prompt` (the remark), `completion` (`good` or `bad`), `label` (equals `completion`), `group` (the speaker's town, also named in the text)",
    notes: `The label depends only on the adjectives; the town never decides it. But the town predicts the label 80% of the time, so a model can score 80% by reading the town alone: per-group accuracy on the minority cells (Redcliff bad, Ashford good) shows whether it did.`,
  },
  {
    name: 'telegram',
    file: 'datasets/telegram.jsonl',
    kind: 'style',
    rows: telegrams,
    description:
      'Telegrams in capitals with STOP between phrases: a narrow style, written only in characters the small-world corpus uses.',
    fields: '`prompt` (`Telegram to NAME:`), `completion` (the telegram)',
    notes:
      'Every character is one the base saw in pretraining (checked by this script), so general-text loss rises only because the style is learned, not because of unseen characters.',
  },
];
const rowsOk = (d: (typeof V2)[number]) => {
  for (const x of d.rows) {
    for (const v of Object.values(x))
      if (!ALLOWED.test(v))
        throw new Error(`${d.name}: character outside ASCII 32..126 and \\n in ${JSON.stringify(v)}`);
    if (d.kind === 'qa' && !x.prompt.includes(x.completion))
      throw new Error(`${d.name}: answer "${x.completion}" is not in "${x.prompt}"`);
  }
};
V2.forEach(rowsOk);
for (const d of V2) write(d.file, d.rows.map((x) => JSON.stringify(x)).join('\n') + '\n');

// every character any shipped dataset uses appears in the training corpus (old datasets included)
const corpusChars = new Set(trainText);
for (const f of readdirSync(new URL('datasets/', root)).filter((f) => f.endsWith('.jsonl'))) {
  const missing = new Set<string>();
  for (const line of readFileSync(new URL(`datasets/${f}`, root), 'utf8')
    .split('\n')
    .filter(Boolean)) {
    for (const v of Object.values(JSON.parse(line) as Rec))
      for (const ch of String(v)) if (!corpusChars.has(ch)) missing.add(ch);
  }
  if (missing.size > 0)
    throw new Error(
      `datasets/${f} uses characters the small-world corpus never has: ${JSON.stringify([...missing].join(''))}`,
    );
}

write('corpus/small-world/train.txt', trainText);
write('corpus/small-world/heldout.txt', heldoutText);

// index.json and README.md: keep what scripts/maintain/make-data.ts wrote, replace only the v2 entries and section
const indexUrl = new URL('datasets/index.json', root);
const index = (JSON.parse(readFileSync(indexUrl, 'utf8')) as { name: string }[]).filter(
  (e) => !V2.some((d) => d.name === e.name) && e.name !== 'general-small-world',
);
index.push(
  ...V2.map(({ name, file, kind, rows, description }) => ({ name, file, kind, records: rows.length, description })),
);
index.push({
  name: 'general-small-world',
  file: 'corpus/small-world/train.txt',
  kind: 'text',
  records: train.docs.length,
  description:
    'The corpus the small-world model was pretrained on: stories, dialogues, facts, lists, numbers and questions about a small invented world.',
} as never);
write('datasets/index.json', JSON.stringify(index, null, 2) + '\n');

const countBy = (rows: readonly Rec[], f: (x: Rec) => string) => {
  const m = new Map<string, number>();
  for (const x of rows) m.set(f(x), (m.get(f(x)) ?? 0) + 1);
  return [...m]
    .sort()
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
};
const MARK = '<!-- v2: written by scripts/maintain/make-corpus-v2.ts -->';
const readmeUrl = new URL('datasets/README.md', root);
const oldReadme = readFileSync(readmeUrl, 'utf8').split(MARK)[0].trimEnd();
const v2Section = `${MARK}

# Datasets v2 (for the small-world model)

Generated by \`npx tsx scripts/maintain/make-corpus-v2.ts\` (seeded), with the corpus in \`corpus/small-world/\`. Same rules as
above: JSONL, at most ${MAX_RECORD_CHARS} characters per record with \`\\nA: \`, ASCII 32..126 only. The script checks that every
character of every file in this folder occurs in the small-world training corpus.

${V2.map(
  (d) => `## ${d.file.replace('datasets/', '')}: ${d.rows.length} records

${d.description}

- Fields: ${d.fields}.
${d.kind === 'classification' ? `- Counts: ${countBy(d.rows, (x) => `${x.group} ${x.label}`)}.\n` : ''}${d.kind === 'qa' ? `- Answers: ${countBy(d.rows, (x) => (/^\d+$/.test(x.completion) ? 'a count' : /^the /.test(x.completion) ? 'a place' : x.prompt.startsWith('Who') || / Who /.test(x.prompt) ? 'a name' : 'a word'))}.\n` : ''}- ${d.notes}
- Example:

\`\`\`json
${d.rows
  .slice(0, 2)
  .map((x) => JSON.stringify(x))
  .join('\n')}
\`\`\`
`,
).join('\n')}`;
write('datasets/README.md', `${oldReadme}\n\n${v2Section}`);

const corpusReadme = `# small-world corpus

The pretraining text of the \`small-world\` model: ${train.docs.length.toLocaleString('en-US')} documents about an invented world of ${PEOPLE.length} people in
${TOWN_NAMES.length} towns: stories with a plot (a lost pet, a broken thing, a trip, a market day, a storm), dialogues, facts about
people and towns, lists, sums and counts, notes and letters, and questions answered from a context in five formats (one to four questions in a document).
Each person's facts never change. Documents are separated by a blank line (no document holds one); pretraining
replaces each blank line with the \`<eos>\` token. Only ASCII 32..126 and \\n.

| file | characters | documents | use |
|---|---|---|---|
| train.txt | ${trainText.length.toLocaleString('en-US')} | ${train.docs.length.toLocaleString('en-US')} | pretraining |
| heldout.txt | ${heldoutText.length.toLocaleString('en-US')} | ${heldout.docs.length.toLocaleString('en-US')} | never trained on: held-out loss, forgetting |

**Held-out text.** Every document has a key naming its main slots; a hash of the key sends one key in ten to the
held-out side, drawn with another seed. Then every held-out sentence that also occurs in the training text is
dropped (${heldout.droppedSentences.toLocaleString('en-US')} sentences dropped; documents left with fewer than two sentences are skipped),
so a held-out document is the novel part of a document: its loss measures sentences the model never saw. QA documents
(whose questions are templates) are not in the held-out text; questions are measured by the qa-context dataset.
Measured on the files as written: ${sharedSentences} of ${heldSentences.length.toLocaleString('en-US')} held-out sentences occur in train.txt, and
${sharedLines} of ${heldLines.length.toLocaleString('en-US')} held-out lines (${((100 * sharedLines) / heldLines.length).toFixed(1)}%) occur as a whole line of train.txt.

**Licence.** Generated by this project's code; no outside text. CC0 (public domain).
`;
write('corpus/small-world/README.md', corpusReadme);
for (const w of written) console.log(`${w.file.padEnd(34)} ${String(w.bytes).padStart(9)} bytes`);
console.log(
  `held-out: ${sharedSentences}/${heldSentences.length} sentences and ${sharedLines}/${heldLines.length} lines shared with train; ${heldout.droppedSentences} sentences dropped`,
);

// ---------------------------------------------------------------- more pretraining text (not shipped) ----------
// `--extra CHARS --extra-out FILE`: further training documents drawn with their own seed, for a longer pretraining
// than the shipped train.txt can feed without repeating itself. Everything above is written unchanged. A document is
// kept only on the training side of the hash, and only if none of its sentences occurs in heldout.txt, so the
// held-out text stays unseen by the whole pretraining text.
const extraAt = process.argv.indexOf('--extra');
if (extraAt > 0) {
  const chars = Number(process.argv[extraAt + 1]);
  const outAt = process.argv.indexOf('--extra-out');
  if (!(chars > 0) || outAt < 0) throw new Error('--extra CHARS needs a positive count and --extra-out FILE');
  const held = new Set(heldSentences);
  // `--qa-share S`: the share of QA documents in the extra text (default: the same mix as train.txt)
  const qaAt = process.argv.indexOf('--qa-share');
  const qaShare = qaAt > 0 ? Number(process.argv[qaAt + 1]) : 0;
  const others = MAKERS.filter(([m]) => m !== qaDoc);
  const othersWeight = others.reduce((sum, [, w]) => sum + w, 0);
  const drawExtra = (): Doc => (!qaShare ? drawDoc() : r.next() < qaShare ? qaDoc() : drawDoc(others, othersWeight));
  r = new Rng(101);
  const docs: string[] = [];
  let n = 0,
    skipped = 0;
  while (n < chars) {
    const d = drawExtra();
    if (isHeldOutKey(d.key)) continue;
    if (splitSentences(d.text).some((s) => held.has(s))) {
      skipped++;
      continue;
    }
    docs.push(d.text);
    n += d.text.length + 2;
  }
  const text = docs.join('\n\n');
  if (!ALLOWED.test(text)) throw new Error('extra text: character outside ASCII 32..126 and \\n');
  // qaDoc already skips qa-context's contexts; checked again on sentences (a Set, not 600 scans of the text)
  const sentences = new Set(docs.flatMap(splitSentences).map((s) => s.replace(/^Question: /, '')));
  const seenQa = qaContext.filter((x) => sentences.has(x.prompt.slice(0, x.prompt.lastIndexOf('. ') + 1))).length;
  if (seenQa > 0) throw new Error(`${seenQa} qa-context contexts occur in the extra text`);
  mkdirSync(dirname(process.argv[outAt + 1]), { recursive: true }); // a fresh clone has no .corpus-extra/
  writeFileSync(process.argv[outAt + 1], text);
  console.log(
    `extra: ${text.length} characters, ${docs.length} documents (${skipped} skipped for a held-out sentence)`,
  );
}

// ---------------------------------------------------------------- drill text for the QA probes (not shipped) ----
// `--drill N --drill-out FILE [--drill-facts MIN-MAX]`: N lookup documents in the short-answer form, each a context
// of MIN..MAX facts of one kind (default 2-6) and then every question about them (both ways, shuffled, at most 8),
// each answered after "\nAnswer: ": many answers per context, as MQAR asks many keys per sequence. For
// scripts/probes/qa-drill-probe.py --docs. No document uses a qa-context context (lookupRelation's ban).
const drillAt = process.argv.indexOf('--drill');
if (drillAt > 0) {
  const count = Number(process.argv[drillAt + 1]);
  const outAt = process.argv.indexOf('--drill-out');
  if (!(count > 0) || outAt < 0) throw new Error('--drill N needs a positive count and --drill-out FILE');
  const factsAt = process.argv.indexOf('--drill-facts');
  const [lo, hi] = (factsAt > 0 ? process.argv[factsAt + 1] : '2-6').split('-').map(Number);
  if (!(lo >= 2 && hi >= lo)) throw new Error('--drill-facts MIN-MAX with 2 <= MIN <= MAX');
  const g = new Rng(202);
  const docs: string[] = [];
  while (docs.length < count) {
    const rel = lookupRelation(g, lo + g.int(hi - lo + 1));
    if (rel.banned) continue;
    const qs = g.shuffle(rel.questions).slice(0, 8);
    docs.push(`${rel.context} ${qs.map((q) => `${q.question}\nAnswer: ${q.short}`).join('\n')}`);
  }
  const text = docs.join('\n\n');
  if (!ALLOWED.test(text)) throw new Error('drill text: character outside ASCII 32..126 and \\n');
  mkdirSync(dirname(process.argv[outAt + 1]), { recursive: true });
  writeFileSync(process.argv[outAt + 1], text);
  console.log(`drill: ${docs.length} documents, ${text.length} characters`);
}
